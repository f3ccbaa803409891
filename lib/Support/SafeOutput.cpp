//===- SafeOutput.cpp - atomic outputs, staged folders, run locks ---------===//

#include "kan/Support/SafeOutput.h"

#include "llvm/ADT/SmallString.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/Twine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"

#include <cerrno>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

using namespace kan::support;
using llvm::Error;
using llvm::StringRef;
using llvm::Twine;
namespace fs = llvm::sys::fs;
namespace path = llvm::sys::path;

static Error makeError(const Twine &msg) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), msg);
}

static std::string tempName(StringRef p) {
  return (p + ".tmp." + Twine(static_cast<long>(::getpid()))).str();
}

/// A process id that certainly no longer exists (ESRCH). Anything else,
/// including a live process of another user, keeps its files.
static bool processGone(long pid) {
  if (pid <= 0 || pid == static_cast<long>(::getpid()))
    return false;
  return ::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH;
}

void kan::support::removeStaleTemps(StringRef p) {
  StringRef dir = path::parent_path(p), base = path::filename(p);
  if (dir.empty())
    dir = ".";
  std::string prefix = (base + ".tmp.").str();
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end;
       it.increment(ec)) {
    StringRef name = path::filename(it->path());
    if (!name.consume_front(prefix) || name.empty() || name.size() > 9 ||
        !llvm::all_of(name, llvm::isDigit))
      continue;
    long pid = 0;
    if (name.getAsInteger(10, pid) || !processGone(pid))
      continue;
    if (fs::is_directory(it->path()))
      (void)fs::remove_directories(it->path());
    else
      (void)fs::remove(it->path());
  }
}

//===----------------------------------------------------------------------===//
// AtomicOutputFile
//===----------------------------------------------------------------------===//

AtomicOutputFile::AtomicOutputFile(std::string path, std::string tmp, int fd)
    : path(std::move(path)), tmp(std::move(tmp)), fd(fd),
      stream(std::make_unique<llvm::raw_fd_ostream>(fd, /*shouldClose=*/true)) {
}

llvm::Expected<std::unique_ptr<AtomicOutputFile>>
AtomicOutputFile::create(StringRef p) {
  removeStaleTemps(p);
  std::string tmp = tempName(p);
  int fd = -1;
  if (std::error_code ec =
          fs::openFileForWrite(tmp, fd, fs::CD_CreateAlways, fs::OF_None))
    return makeError(p + ": cannot create " + tmp + ": " + ec.message());
  return std::unique_ptr<AtomicOutputFile>(
      new AtomicOutputFile(p.str(), std::move(tmp), fd));
}

Error AtomicOutputFile::commit() {
  stream->flush();
  std::error_code ec = stream->error();
  if (!ec && ::fsync(fd) != 0)
    ec = std::error_code(errno, std::generic_category());
  stream->close();
  if (!ec)
    ec = stream->error();
  stream->clear_error();
  if (!ec)
    ec = fs::rename(tmp, path);
  if (ec) {
    (void)fs::remove(tmp);
    committed = true; // nothing left to clean up
    return makeError(path + ": cannot write: " + ec.message() +
                     " (the previous file, if any, is unchanged)");
  }
  committed = true;
  return Error::success();
}

AtomicOutputFile::~AtomicOutputFile() {
  if (committed)
    return;
  // Errors of an abandoned file are not reported (raw_fd_ostream would abort).
  stream->clear_error();
  stream->close();
  stream->clear_error();
  (void)fs::remove(tmp);
}

Error kan::support::writeFileAtomic(StringRef p, StringRef text) {
  auto out = AtomicOutputFile::create(p);
  if (!out)
    return out.takeError();
  (*out)->os() << text;
  return (*out)->commit();
}

//===----------------------------------------------------------------------===//
// StagedDirectory
//===----------------------------------------------------------------------===//

StagedDirectory::StagedDirectory(std::string dest, std::string staging,
                                 bool destExisted)
    : dest(std::move(dest)), staging(std::move(staging)),
      destExisted(destExisted) {}

llvm::Expected<std::unique_ptr<StagedDirectory>>
StagedDirectory::create(StringRef destIn) {
  // "out/" and "out" are the same folder; the staging name derives from it.
  StringRef dest = destIn;
  while (dest.size() > 1 && path::is_separator(dest.back()))
    dest = dest.drop_back();
  bool existed = fs::exists(dest);
  if (existed && !fs::is_directory(dest))
    return makeError(dest + ": exists and is not a folder");
  llvm::SmallString<256> staging;
  if (existed) {
    // Inside: the same file system, so the files can be renamed into place.
    staging = dest;
    path::append(staging, ".kan-staging");
  } else {
    StringRef parent = path::parent_path(dest);
    if (!parent.empty())
      if (std::error_code ec = fs::create_directories(parent))
        return makeError(parent + ": cannot create: " + ec.message());
    staging = dest;
  }
  removeStaleTemps(staging);
  std::string tmp = tempName(staging);
  if (fs::exists(tmp))
    (void)fs::remove_directories(tmp);
  if (std::error_code ec = fs::create_directory(tmp))
    return makeError(tmp + ": cannot create: " + ec.message());
  return std::unique_ptr<StagedDirectory>(
      new StagedDirectory(dest.str(), std::move(tmp), existed));
}

Error StagedDirectory::commit() {
  committed = true;
  if (!destExisted) {
    if (std::error_code ec = fs::rename(staging, dest)) {
      (void)fs::remove_directories(staging);
      return makeError(dest + ": cannot move the finished outputs into place: " +
                       ec.message());
    }
    return Error::success();
  }
  std::error_code ec;
  for (fs::directory_iterator it(staging, ec), end; !ec && it != end;
       it.increment(ec)) {
    llvm::SmallString<256> to(dest);
    path::append(to, path::filename(it->path()));
    if ((ec = fs::rename(it->path(), to)))
      break;
  }
  (void)fs::remove_directories(staging);
  if (ec)
    return makeError(dest + ": cannot move the finished outputs into place: " +
                     ec.message());
  return Error::success();
}

StagedDirectory::~StagedDirectory() {
  if (!committed)
    (void)fs::remove_directories(staging);
}

//===----------------------------------------------------------------------===//
// FileLock
//===----------------------------------------------------------------------===//

llvm::Expected<std::unique_ptr<FileLock>>
FileLock::acquire(StringRef p, StringRef tool) {
  std::string file = (p + ".lock").str();
  // A holder that finishes removes the lock file: if it did so between our
  // open and flock, we hold a lock on a removed file and must try again.
  for (int attempt = 0; attempt < 8; ++attempt) {
    int fd = ::open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0666);
    if (fd < 0)
      return makeError(file + ": cannot create the lock file: " +
                       std::strerror(errno));
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
      int err = errno;
      char buf[32] = {0};
      ssize_t n = err == EWOULDBLOCK ? ::pread(fd, buf, sizeof buf - 1, 0) : 0;
      ::close(fd);
      if (err != EWOULDBLOCK)
        return makeError(file + ": cannot lock: " + std::strerror(err));
      StringRef holder = StringRef(buf, n > 0 ? n : 0).trim();
      return makeError(p + " is in use by another " + tool + " run (pid " +
                       (holder.empty() ? StringRef("unknown") : holder) +
                       ", lock " + file + "); wait for it or use other paths");
    }
    struct stat held, now;
    if (::fstat(fd, &held) != 0 || ::stat(file.c_str(), &now) != 0 ||
        held.st_dev != now.st_dev || held.st_ino != now.st_ino) {
      ::close(fd);
      continue;
    }
    std::string pid = std::to_string(::getpid()) + "\n";
    if (::ftruncate(fd, 0) != 0 ||
        ::pwrite(fd, pid.data(), pid.size(), 0) !=
            static_cast<ssize_t>(pid.size())) {
      int err = errno;
      ::unlink(file.c_str());
      ::close(fd);
      return makeError(file + ": cannot write the lock file: " +
                       std::strerror(err));
    }
    return std::unique_ptr<FileLock>(new FileLock(std::move(file), fd));
  }
  return makeError(file + ": the lock file keeps being replaced");
}

FileLock::~FileLock() {
  // Unlink while still holding the lock (see acquire).
  ::unlink(file.c_str());
  ::close(fd);
}
