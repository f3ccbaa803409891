//===- TargetBackend.cpp - the registry of compilation targets --*- C++ -*-===//

#include "kan/Target/TargetBackend.h"
#include "kan/Target/Common.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/StringSaver.h"

using namespace mlir;
using namespace mlir::kan;

//===----------------------------------------------------------------------===//
// Options
//===----------------------------------------------------------------------===//

SmallVector<TargetOptions::OptionInfo> TargetOptions::describe() {
  // print() spells every value as a pipeline string would: {a=1 b=x}.
  std::string printed;
  {
    llvm::raw_string_ostream os(printed);
    print(os);
  }
  llvm::StringMap<std::string> values;
  StringRef rest = StringRef(printed).trim().drop_front().drop_back();
  while (!rest.empty()) {
    StringRef item;
    std::tie(item, rest) = rest.split(' ');
    auto [key, value] = item.split('=');
    values[key] = value.str();
  }
  SmallVector<OptionInfo> infos;
  for (auto &entry : OptionsMap) {
    llvm::cl::Option *opt = entry.second;
    OptionInfo info;
    info.name = entry.first().str();
    info.help = opt->HelpStr.str();
    info.defaultValue = values.lookup(entry.first());
    info.takesValue = opt->getValueExpectedFlag() != llvm::cl::ValueOptional;
    infos.push_back(std::move(info));
  }
  llvm::sort(infos, [](const OptionInfo &a, const OptionInfo &b) {
    return a.name < b.name;
  });
  return infos;
}

std::optional<bool> TargetOptions::takesValue(StringRef name) const {
  auto it = OptionsMap.find(name);
  if (it == OptionsMap.end())
    return std::nullopt;
  return it->second->getValueExpectedFlag() != llvm::cl::ValueOptional;
}

LogicalResult TargetOptions::setOption(StringRef name, StringRef value,
                                       raw_ostream &err) {
  auto it = OptionsMap.find(name);
  if (it == OptionsMap.end()) {
    err << "no option '" << name << "'\n";
    return failure();
  }
  // The same path as parseFromString: the option's own parser checks the
  // value and reports on stderr.
  if (llvm::cl::ProvidePositionalOption(it->second, value, 0)) {
    err << "bad value '" << value << "' for option '" << name << "'\n";
    return failure();
  }
  return success();
}

KanBuildTrainStepOptions FrontendOptions::getTrainStepOptions() const {
  KanBuildTrainStepOptions o;
  o.rule = rule;
  o.dist = dist;
  o.loss = loss;
  o.directions = directions;
  o.density = density;
  o.lr = lr;
  o.firstDirection = firstDirection;
  o.update = update;
  o.gradient = gradient;
  o.localLosses = localLosses;
  return o;
}

void FrontendOptions::setTrainStepOptions(const KanBuildTrainStepOptions &o) {
  trainStep = true;
  rule = o.rule;
  dist = o.dist;
  loss = o.loss;
  directions = o.directions;
  density = o.density;
  lr = o.lr;
  firstDirection = o.firstDirection;
  update = o.update;
  gradient = o.gradient;
  localLosses = o.localLosses;
}

void mlir::kan::buildFrontendPipeline(OpPassManager &pm,
                                      const FrontendOptions &options) {
  if (options.trainStep)
    pm.addPass(createKanBuildTrainStep(options.getTrainStepOptions()));
  pm.addNestedPass<func::FuncOp>(createKanLowerToGemm());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
}

//===----------------------------------------------------------------------===//
// Outputs
//===----------------------------------------------------------------------===//

TargetOutput::~TargetOutput() = default;

LogicalResult DirectoryOutput::write(StringRef name, StringRef contents) {
  if (std::error_code ec = llvm::sys::fs::create_directories(dir)) {
    llvm::errs() << "kan-translate: cannot create " << dir << ": "
                 << ec.message() << "\n";
    return failure();
  }
  return writeTargetFile(dir, name, contents);
}

std::optional<std::string> DirectoryOutput::pathOf(StringRef name) const {
  SmallString<256> path(dir);
  llvm::sys::path::append(path, name);
  return std::string(path);
}

LogicalResult MemoryOutput::write(StringRef name, StringRef contents) {
  files[name] = contents.str();
  return success();
}

const std::string *MemoryOutput::lookup(StringRef name) const {
  auto it = files.find(name);
  return it == files.end() ? nullptr : &it->second;
}

//===----------------------------------------------------------------------===//
// Registry
//===----------------------------------------------------------------------===//

TargetBackend::~TargetBackend() = default;

static llvm::StringMap<const TargetBackend *> &getRegistry() {
  static llvm::StringMap<const TargetBackend *> registry;
  return registry;
}

void mlir::kan::registerTargetBackend(const TargetBackend &backend) {
  StringRef name = backend.getName();
  bool inserted = getRegistry().try_emplace(name, &backend).second;
  if (!inserted)
    llvm::report_fatal_error("target '" + name + "' registered twice");
}

const TargetBackend *mlir::kan::lookupTargetBackend(StringRef name) {
  auto it = getRegistry().find(name);
  return it == getRegistry().end() ? nullptr : it->second;
}

const TargetBackend *mlir::kan::findTargetBackend(StringRef name,
                                                  raw_ostream &err) {
  if (const TargetBackend *backend = lookupTargetBackend(name))
    return backend;
  err << "unknown target '" << name << "' (known: " << getTargetNames()
      << ")\n";
  return nullptr;
}

SmallVector<const TargetBackend *> mlir::kan::getTargetBackends() {
  SmallVector<const TargetBackend *> backends;
  for (auto &entry : getRegistry())
    backends.push_back(entry.second);
  llvm::sort(backends, [](const TargetBackend *a, const TargetBackend *b) {
    return a->getName() < b->getName();
  });
  return backends;
}

std::string mlir::kan::getTargetNames() {
  std::string names;
  for (const TargetBackend *backend : getTargetBackends())
    names += (names.empty() ? "" : ", ") + backend->getName().str();
  return names;
}

void mlir::kan::registerTargetPipelines() {
  // The pass registry keeps StringRefs: the texts live as long as the tool.
  static llvm::BumpPtrAllocator allocator;
  static llvm::StringSaver saver(allocator);
  static bool registered = false;
  if (registered)
    return;
  registered = true;
  for (const TargetBackend *backend : getTargetBackends()) {
    StringRef arg = saver.save("kan-compile-" + backend->getName());
    StringRef description = saver.save(
        backend->getDescription() + "; the pipeline kan-translate --target=" +
        backend->getName() + " runs before emitting");
    registerPassPipeline(
        arg, description,
        [backend](OpPassManager &pm, StringRef text,
                  function_ref<LogicalResult(const Twine &)> errorHandler) {
          std::unique_ptr<TargetOptions> options = backend->createOptions();
          if (failed(options->parseFromString(text)))
            return errorHandler("bad options for target '" +
                                backend->getName() + "': " + text);
          backend->buildPipeline(pm, *options);
          return success();
        },
        [backend](function_ref<void(const ::mlir::detail::PassOptions &)> handler) {
          handler(*backend->createOptions());
        });
  }
}
