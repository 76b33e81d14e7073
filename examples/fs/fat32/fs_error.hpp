// The one error type of the FAT32 library, and the Result that carries a value or an error.
//
// Every operation of Volume returns FsError (kOk on success) or Result<T>. A corrupt volume is
// one error, kCorrupt; Volume::corruption() says what was wrong (the Corruption below), so a
// server can log it without the error set growing with every way a disk can be damaged.
#pragma once

#include <cstdint>

namespace ukernel::fat32 {

enum class FsError : std::uint8_t {
  kOk,
  kNotFound,          // a path component or the file does not exist
  kExists,            // create-exclusive, mkdir or rename onto a name that exists (and may not)
  kNotADirectory,     // a path component that must be a directory is a file
  kIsDirectory,       // open, unlink or rename-onto of a directory where a file is needed
  kNotEmpty,          // rmdir or rename onto a directory that still has entries
  kNoSpace,           // not enough free clusters (nothing was changed)
  kNameInvalid,       // empty, ".", "..", bad characters, bad UTF-8, trailing space or dot, > 255
  kPathTooLong,       // a path longer than kMaxPathLength, or deeper than kMaxDepth directories
  kReadOnly,          // a read-only mount, a read-only file, or a handle opened without write
  kCorrupt,           // the volume is damaged: Volume::corruption() says how
  kNotFat32,          // a valid FAT boot sector whose cluster count makes it FAT12 or FAT16
  kUnsupported,       // a valid FAT32 volume using a feature this library lacks (no FAT mirroring)
  kIoError,           // the block device reported an error
  kBadHandle,         // not a handle of an open file (never opened, closed, or another mount's)
  kTooManyOpenFiles,  // every one of kMaxOpenFiles handles is in use
  kBusy,              // unlink, rename or rmdir of a file that is open
  kInvalidArgument,   // bad open flags, rename of a directory into itself, a bad cursor
  kFileTooLarge,      // the file would pass 4 GiB - 1 bytes, FAT32's limit
  kNotMounted,        // an operation on a volume that is not mounted
  kDirectoryFull,     // a directory would pass 65536 entries, FAT's limit
  // The file-system server's own (examples/fs/protocol.hpp), never returned by Volume:
  kNoDisk,         // the server has no block session (no driver, or the driver refused it)
  kOutsideRegion,  // an offset and length that do not lie inside the client's shared region
  kStaleHandle,    // a handle from before the server dropped its volume after an I/O error
  kCount
};

// What kCorrupt means in one case. The first problem found is kept.
enum class Corruption : std::uint8_t {
  kNone,
  kBadJump,                 // the boot sector does not start with a jump instruction
  kBadSignature,            // no 0x55 0xAA at the end of the boot sector
  kBadSectorSize,           // bytes per sector not 512, 1024, 2048 or 4096
  kBadClusterSize,          // sectors per cluster not a power of two, or a cluster > 32 KiB
  kBadReservedSectors,      // zero reserved sectors, or FSInfo/backup outside them
  kBadFatCount,             // no FAT, or more than two
  kBadFatSize,              // the FATs cannot hold an entry for every cluster
  kBadTotalSectors,         // no sectors, or the layout does not fit in them
  kVolumeLargerThanDevice,  // the boot sector claims more sectors than the device has
  kBadRootCluster,          // the root directory's cluster is outside the data area
  kClusterOutOfRange,       // a FAT entry or directory entry names a cluster that does not exist
  kChainTooLong,            // a chain longer than the disk (a loop) or than a directory may be
  kChainTooShort,           // a file's chain ends before its size says
  kCrossLinked,             // two chains share a cluster (found by repair)
  kBadDirectory,  // a directory without its "." and ".." entries, or deeper than kMaxDepth
};

// A value or an error: ok() is true exactly when error == kOk, and then value is meaningful.
template <typename T>
struct [[nodiscard]] Result {
  T value{};
  FsError error = FsError::kOk;

  Result() = default;
  Result(T v) : value(v) {}  // NOLINT: implicit, so `return value;` reads naturally
  Result(FsError e) : error(e) {}
  bool ok() const { return error == FsError::kOk; }
};

// A short English name for logs and test messages.
const char* describe(FsError error);
const char* describe(Corruption corruption);

}  // namespace ukernel::fat32
