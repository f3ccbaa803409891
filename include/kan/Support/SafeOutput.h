//===- SafeOutput.h - atomic outputs, staged folders, run locks -*- C++ -*-===//
//
// Writers that never leave a torn or half-replaced output behind: a file is
// written as <path>.tmp.<pid>, synced and renamed over <path>; a folder of
// outputs is written into a staging folder and moved into place only when
// every file is complete. A failed write (a full disk) leaves the previous
// output as it was. Temporary files of processes that no longer exist (a
// kill mid-write) are removed by the next writer of the same path.
//
//===----------------------------------------------------------------------===//

#ifndef KAN_SUPPORT_SAFEOUTPUT_H
#define KAN_SUPPORT_SAFEOUTPUT_H

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/raw_ostream.h"

#include <memory>
#include <optional>
#include <string>

namespace kan::support {

/// Removes <path>.tmp.<pid> files and folders whose process is gone.
void removeStaleTemps(llvm::StringRef path);

/// A file written under a temporary name and renamed into place by commit().
/// Destroyed uncommitted (an error on the way), it removes its temporary
/// file and leaves `path` untouched.
class AtomicOutputFile {
public:
  /// Creates <path>.tmp.<pid> (after removing stale temporaries of <path>).
  static llvm::Expected<std::unique_ptr<AtomicOutputFile>>
  create(llvm::StringRef path);
  ~AtomicOutputFile();

  llvm::raw_ostream &os() { return *stream; }
  /// Flushes, checks for write errors, fsyncs and renames over the path.
  llvm::Error commit();

private:
  AtomicOutputFile(std::string path, std::string tmp, int fd);
  std::string path, tmp;
  int fd;
  std::unique_ptr<llvm::raw_fd_ostream> stream;
  bool committed = false;
};

/// Writes `text` to `path` atomically.
llvm::Error writeFileAtomic(llvm::StringRef path, llvm::StringRef text);

/// A folder of outputs staged beside or inside the destination and moved
/// into place by commit(). A destination that does not exist yet appears
/// with all its files at once (one rename of the staging folder); into an
/// existing folder the files are renamed one by one, each atomically, once
/// all of them are written. Destroyed uncommitted, it removes the staging
/// folder.
class StagedDirectory {
public:
  static llvm::Expected<std::unique_ptr<StagedDirectory>>
  create(llvm::StringRef dest);
  ~StagedDirectory();

  /// Where the files are to be written.
  llvm::StringRef path() const { return staging; }
  llvm::Error commit();

private:
  StagedDirectory(std::string dest, std::string staging, bool destExisted);
  std::string dest, staging;
  bool destExisted, committed = false;
};

/// An exclusive flock(2) on <path>.lock holding the owner's pid, so that two
/// processes cannot write the same outputs. Released (and the lock file
/// removed) on destruction; the kernel releases it when the process dies.
class FileLock {
public:
  /// Fails at once, naming the holder's pid, if another process holds it.
  static llvm::Expected<std::unique_ptr<FileLock>>
  acquire(llvm::StringRef path, llvm::StringRef tool);
  ~FileLock();
  llvm::StringRef lockPath() const { return file; }

private:
  FileLock(std::string file, int fd) : file(std::move(file)), fd(fd) {}
  std::string file;
  int fd;
};

} // namespace kan::support

#endif // KAN_SUPPORT_SAFEOUTPUT_H
