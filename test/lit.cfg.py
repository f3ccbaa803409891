# -*- Python -*-
import os
import sys

import lit.formats
from lit.llvm import llvm_config

config.name = "KAN"
config.test_format = lit.formats.ShTest(not llvm_config.use_lit_shell)
config.suffixes = [".mlir", ".test", ".s"]
# The runtime's kernel level (kanrt/isa.h): check-kan runs the suite once at
# the best level of the machine and once with `--param kan_isa=baseline`.
kan_isa = lit_config.params.get("kan_isa", "")
if kan_isa:
    config.environment["KAN_ISA"] = kan_isa
    config.name += "[KAN_ISA=%s]" % kan_isa
# The tests call cmake and the C compiler of the build.
config.environment["PATH"] = os.environ.get("PATH", "")
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.kan_obj_root, "test")
# Unit/ holds the GoogleTest binaries and has its own config; Inputs/ are data.
config.excludes = ["Inputs", "CMakeLists.txt", "lit.cfg.py", "lit.site.cfg.py",
                   "golden", "runtime", "Unit", "fuzz"]

import subprocess
import sys
config.substitutions.append(("%python", sys.executable))
# The formula checks parse with SymPy and write NPY with NumPy (Debian
# python3-sympy, python3-numpy).
if subprocess.call([sys.executable, "-c", "import sympy, numpy"],
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) == 0:
    config.available_features.add("sympy")
# kan-plot's test renders its SVG with rsvg-convert (Debian librsvg2-bin).
import shutil
if shutil.which("rsvg-convert"):
    config.available_features.add("rsvg-convert")
config.substitutions.append(("%PATH%", config.environment["PATH"]))
# The interpreter running lit runs the test scripts too.
config.substitutions.append(("%python", sys.executable))
config.substitutions.append(("%kan_src_root", config.kan_src_root))
config.substitutions.append(("%kan_obj_root", config.kan_obj_root))
config.substitutions.append(("%kan_tools_dir", config.kan_tools_dir))
config.substitutions.append(("%cc", config.cc))
# Compile emitted C against the runtime: %kanrt-cc <sources> -o <exe>
config.substitutions.append(
    ("%kanrt-cc", "%s -std=c99 -O2 -Wall -Wextra -Werror -I%s" %
     (config.cc, config.kanrt_include)))
config.substitutions.append(("%kanrt-lib", "%s -lm -lz" % config.kanrt_lib))
config.substitutions.append(("%golden", os.path.join(config.kan_src_root, "test", "golden")))

# Multi-rank kan-train tests (REQUIRES: mpi) when the build found MPI:
# %mpirun N runs N ranks on this machine however many cores it has, as
# root too (CI runs as root), over shared memory.
if getattr(config, "mpiexec", ""):
    config.available_features.add("mpi")
    config.substitutions.append(
        ("%mpirun", "%s --oversubscribe --allow-run-as-root -np" %
         config.mpiexec))
    for k, v in (("OMPI_ALLOW_RUN_AS_ROOT", "1"),
                 ("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1"),
                 ("OMPI_MCA_btl", "self,vader")):
        config.environment[k] = os.environ.get(k, v)

llvm_config.use_default_substitutions()
llvm_config.with_environment("PATH", config.llvm_tools_dir, append_path=True)
llvm_config.with_environment("PATH", config.kan_tools_dir, append_path=True)
tools = ["kan-opt", "kan-translate", "kan-import", "kan-run", "kan-train", "kan-plot",
         "kan-symbolic", "kan-prune",
         "nmc-sim"]
llvm_config.add_tool_substitutions(
    [t for t in tools if os.path.exists(os.path.join(config.kan_tools_dir, t))],
    [config.kan_tools_dir])
