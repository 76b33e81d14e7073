// The names of the library's errors, in a file of their own: a client that reports them (the
// shell) links this and not the file system.
#include "fs_error.hpp"

namespace ukernel::fat32 {

const char* describe(FsError e) {
  switch (e) {
    case FsError::kOk:
      return "ok";
    case FsError::kNotFound:
      return "not found";
    case FsError::kExists:
      return "exists";
    case FsError::kNotADirectory:
      return "not a directory";
    case FsError::kIsDirectory:
      return "is a directory";
    case FsError::kNotEmpty:
      return "directory not empty";
    case FsError::kNoSpace:
      return "no space";
    case FsError::kNameInvalid:
      return "name invalid";
    case FsError::kPathTooLong:
      return "path too long";
    case FsError::kReadOnly:
      return "read-only";
    case FsError::kCorrupt:
      return "corrupt volume";
    case FsError::kNotFat32:
      return "not FAT32 (FAT12 or FAT16 by cluster count)";
    case FsError::kUnsupported:
      return "unsupported FAT32 feature";
    case FsError::kIoError:
      return "I/O error";
    case FsError::kBadHandle:
      return "bad handle";
    case FsError::kTooManyOpenFiles:
      return "too many open files";
    case FsError::kBusy:
      return "file is open";
    case FsError::kInvalidArgument:
      return "invalid argument";
    case FsError::kFileTooLarge:
      return "file too large";
    case FsError::kNotMounted:
      return "not mounted";
    case FsError::kDirectoryFull:
      return "directory full";
    case FsError::kNoDisk:
      return "no disk";
    case FsError::kOutsideRegion:
      return "outside the shared region";
    case FsError::kStaleHandle:
      return "stale handle (the volume was remounted after an I/O error)";
    case FsError::kCount:
      break;
  }
  return "unknown error";
}

const char* describe(Corruption c) {
  switch (c) {
    case Corruption::kNone:
      return "none";
    case Corruption::kBadJump:
      return "boot sector: no jump instruction";
    case Corruption::kBadSignature:
      return "boot sector: no 55 AA signature";
    case Corruption::kBadSectorSize:
      return "boot sector: bad bytes per sector";
    case Corruption::kBadClusterSize:
      return "boot sector: bad sectors per cluster";
    case Corruption::kBadReservedSectors:
      return "boot sector: bad reserved sectors";
    case Corruption::kBadFatCount:
      return "boot sector: bad number of FATs";
    case Corruption::kBadFatSize:
      return "boot sector: FAT too small or not FAT32 layout";
    case Corruption::kBadTotalSectors:
      return "boot sector: bad total sectors";
    case Corruption::kVolumeLargerThanDevice:
      return "volume larger than the device";
    case Corruption::kBadRootCluster:
      return "root cluster out of range";
    case Corruption::kClusterOutOfRange:
      return "cluster number out of range";
    case Corruption::kChainTooLong:
      return "cluster chain too long (a loop?)";
    case Corruption::kChainTooShort:
      return "file chain shorter than its size";
    case Corruption::kCrossLinked:
      return "cross-linked chains";
    case Corruption::kBadDirectory:
      return "bad directory";
  }
  return "unknown corruption";
}

}  // namespace ukernel::fat32
