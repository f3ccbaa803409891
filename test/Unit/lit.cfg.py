# -*- Python -*-
# Runs every GoogleTest binary built into <build>/test/Unit (kan_add_unittest).
import os

import lit.formats

config.name = "KAN-Unit"
config.suffixes = []
config.test_exec_root = os.path.join(config.kan_obj_root, "test", "Unit")
config.test_source_root = config.test_exec_root
config.test_format = lit.formats.GoogleTest(".", "Tests")
config.environment["KAN_SOURCE_DIR"] = config.kan_src_root
# The runtime's kernel level (kanrt/isa.h): check-kan runs the suite once at
# the best level of the machine and once with `--param kan_isa=baseline`.
kan_isa = lit_config.params.get("kan_isa", "")
if kan_isa:
    config.environment["KAN_ISA"] = kan_isa
    config.name += "[KAN_ISA=%s]" % kan_isa
