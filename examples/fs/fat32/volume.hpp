// A mounted FAT32 volume: files, directories and long names on a block device.
//
// How it works. Volume keeps no file data in memory: every change is written through to the
// device when the operation runs (one FAT sector is cached and written before any step that
// depends on it), so the only state in memory is the open files (Node: where the directory
// entry is, first cluster, size) and the free-cluster count. All memory is fixed: kMaxOpenFiles
// handles, three sector buffers and the repair bitmap; no allocation, exceptions or RTTI.
//
// Durability promise: an operation whose fsync(), close() or sync() returned kOk is on the disk
// (the device's flush returned). Before that, an interruption (crash, power loss, a device that
// stops writing) leaves the volume in a state that mount repairs, because writes are ordered:
//   - the first change after a mount or sync clears the clean-shutdown bit in FAT[1] (the dirty
//     bit) and flushes, so an interrupted volume is always marked dirty;
//   - new clusters are allocated and chained in the FAT, and data written into them, before
//     anything points at them (the previous tail's FAT entry, or the directory entry); the
//     directory entry's size is written last, after a flush;
//   - a new directory entry's long-name slots are written before its short entry; a deleted
//     entry's short slot is marked free first; a freed chain is released after the directory
//     entry no longer names it; a rename writes the new entry before it removes the old one;
//   - the FSInfo hints are written at sync, before the clean bit.
// So an interruption leaves at most: lost clusters (allocated, unreachable), a chain longer than
// its file's size, orphaned long-name slots, FAT copies that differ, two entries naming one chain
// (an interrupted rename), a stale ".." (an interrupted directory move), a wrong free count, and
// the dirty bit. Mount (read-write) repairs exactly these when the dirty bit is set, and repair
// is itself interruptible (the bit stays set until it finishes). A volume marked clean is
// trusted structurally but every number is still checked when used: a damaged clean volume gives
// kCorrupt (Volume::corruption() says what) and is never written by a failed mount.
//
// Paths are '/'-separated from the root (a leading '/' is optional; empty components and "."
// are skipped; ".." is refused, so a server can hand out subtrees by prefixing paths).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "block_device.hpp"
#include "boot_sector.hpp"
#include "fs_error.hpp"
#include "names.hpp"

namespace ukernel::fat32 {

inline constexpr std::size_t kMaxOpenFiles = 16;              // handles open at once, per volume
inline constexpr std::size_t kMaxPathLength = 1024;           // bytes in a path
inline constexpr std::size_t kMaxDepth = 64;                  // directories below the root
inline constexpr std::uint32_t kMaxDirectoryEntries = 65536;  // 32-byte slots per directory
inline constexpr std::uint32_t kMaxFileSize = 0xFFFFFFFF;

// Open flags, combined with |. kRead and/or kWrite is required; kTruncate needs kWrite.
enum class OpenFlags : std::uint8_t {
  kRead = 1,
  kWrite = 2,
  kCreate = 4,      // create the file if it does not exist
  kTruncate = 8,    // cut an existing file to zero bytes
  kExclusive = 16,  // with kCreate: kExists if the file exists
};
constexpr OpenFlags operator|(OpenFlags a, OpenFlags b) {
  return static_cast<OpenFlags>(static_cast<std::uint8_t>(a) | static_cast<std::uint8_t>(b));
}
constexpr bool has(OpenFlags set, OpenFlags flag) {
  return (static_cast<std::uint8_t>(set) & static_cast<std::uint8_t>(flag)) != 0;
}

struct FileHandle {
  std::uint32_t value = 0;
};

// A FAT date and time (the on-disk encoding: date = (year-1980)<<9 | month<<5 | day,
// time = hour<<11 | minute<<5 | seconds/2). The volume stamps changes with its clock.
struct Timestamp {
  std::uint16_t date = (0 << 9) | (1 << 5) | 1;  // 1980-01-01
  std::uint16_t time = 0;
};

struct Stat {
  std::uint32_t size = 0;  // 0 for directories
  bool is_directory = false;
  std::uint8_t attributes = 0;  // FAT attribute bits (0x01 read-only, 0x02 hidden, ...)
  Timestamp modified;
};

struct DirEntry {
  std::array<char, kMaxNameBytes> name{};  // UTF-8, not NUL-terminated
  std::size_t name_length = 0;
  Stat stat;
  std::string_view name_view() const { return {name.data(), name_length}; }
};

// Where readdir continues: plain data, so a server may keep one per client.
struct DirCursor {
  std::uint32_t directory = 0;  // first cluster of the directory
  std::uint32_t next_slot = 0;
};

struct MountOptions {
  bool read_only = false;
};

struct VolumeInfo {
  std::uint32_t cluster_bytes = 0;
  std::uint32_t cluster_count = 0;
  std::uint32_t free_clusters = 0;
  bool was_dirty = false;  // the dirty bit was set at mount
  bool repaired = false;   // mount ran repair
  std::uint32_t lost_clusters_freed = 0;
  std::uint32_t entries_fixed = 0;  // orphaned slots, duplicate entries, sizes, ".." fixed
};

class Volume {
 public:
  Volume() = default;
  Volume(const Volume&) = delete;
  Volume& operator=(const Volume&) = delete;

  // Mounts: checks the boot sector (kCorrupt, kNotFat32, kUnsupported), reads the FAT to count
  // free clusters, and repairs a dirty volume when mounted read-write (see above). kIoError if
  // the device fails. A failed mount leaves the volume unmounted and writes nothing... unless
  // it failed inside repair of a dirty volume, where repairs made so far stay (and are valid).
  template <BlockDevice D>
  [[nodiscard]] FsError mount(D& device, MountOptions options = {}) {
    return mount(DeviceRef(device), options);
  }
  [[nodiscard]] FsError mount(DeviceRef device, MountOptions options);
  // Writes the hints, clears the dirty bit and flushes; handles stay open.
  [[nodiscard]] FsError sync();
  // sync(), then every handle is closed and the volume forgets the device.
  [[nodiscard]] FsError unmount();
  // Forgets the device and every handle, writing nothing. For a caller whose device failed
  // (kIoError): what is in memory (the cached FAT sector, the free count, the open files'
  // sizes) may no longer match the disk, and writing it later would turn what an interrupted
  // operation left, which mount repairs, into damage it does not. Mount again to go on.
  void forget();

  bool mounted() const { return device_.valid(); }
  Corruption corruption() const { return corruption_; }
  VolumeInfo info() const;
  void set_clock(Timestamp now) { now_ = now; }

  // Errors: kNotFound, kNotADirectory, kIsDirectory, kExists, kNameInvalid, kPathTooLong,
  // kReadOnly, kTooManyOpenFiles, kInvalidArgument (flags), kNoSpace, kCorrupt, kIoError.
  [[nodiscard]] Result<FileHandle> open(std::string_view path, OpenFlags flags);
  // Reads up to out.size() bytes at offset; fewer at the end of the file (0 at or past it).
  // Errors: kBadHandle, kInvalidArgument (handle opened without kRead), kCorrupt, kIoError.
  [[nodiscard]] Result<std::size_t> read(FileHandle handle, std::uint64_t offset,
                                         std::span<std::byte> out);
  // Writes all of data at offset, extending the file; a gap past the old end reads as zeros.
  // All or nothing: kNoSpace and kFileTooLarge change nothing. Errors also: kBadHandle,
  // kReadOnly (handle without kWrite), kCorrupt, kIoError.
  [[nodiscard]] Result<std::size_t> write(FileHandle handle, std::uint64_t offset,
                                          std::span<const std::byte> data);
  // Sets the size: shorter frees clusters, longer reads as zeros. Errors as write().
  [[nodiscard]] FsError truncate(FileHandle handle, std::uint64_t size);
  // Flushes the device: everything this handle wrote is durable. kBadHandle, kIoError.
  [[nodiscard]] FsError fsync(FileHandle handle);
  // fsync(), then the handle is invalid (even if the flush failed). kBadHandle, kIoError.
  [[nodiscard]] FsError close(FileHandle handle);
  [[nodiscard]] Result<Stat> fstat(FileHandle handle);

  // Errors for the path operations: kNotFound, kNotADirectory, kNameInvalid, kPathTooLong,
  // kCorrupt, kIoError, and for changes kReadOnly, kNoSpace, kDirectoryFull; as listed:
  [[nodiscard]] Result<Stat> stat(std::string_view path);
  [[nodiscard]] FsError mkdir(std::string_view path);   // + kExists
  [[nodiscard]] FsError rmdir(std::string_view path);   // + kNotEmpty, kInvalidArgument (root)
  [[nodiscard]] FsError unlink(std::string_view path);  // + kIsDirectory, kBusy (open)
  // POSIX rename: a file may replace a file, a directory an empty directory (kNotEmpty);
  // directory onto file is kNotADirectory, file onto directory kIsDirectory; a directory into
  // its own subtree, or the root, is kInvalidArgument; an open source or target is kBusy;
  // renaming a file onto itself (same entry, same spelling) does nothing.
  [[nodiscard]] FsError rename(std::string_view from, std::string_view to);

  // readdir: open_dir gives a cursor at the first entry; read_dir fills out and returns true,
  // or false at the end. "." and ".." are not listed. kInvalidArgument for a forged cursor.
  [[nodiscard]] Result<DirCursor> open_dir(std::string_view path);
  [[nodiscard]] Result<bool> read_dir(DirCursor& cursor, DirEntry& out);

  // Internals shared by the library's source files (directory.cpp, files.cpp, tree.cpp,
  // repair.cpp); not part of the API.
  struct Entry;
  struct DirScan;
  enum class ScanResult : std::uint8_t { kEntry, kOrphan, kEnd };

 private:
  struct Node {
    std::uint32_t refs = 0;
    std::uint32_t dir = 0;   // first cluster of the directory holding the entry
    std::uint32_t slot = 0;  // the short entry's slot in it
    std::uint32_t cluster = 0;
    std::uint32_t size = 0;
    std::uint8_t attributes = 0;
    Timestamp modified;
    std::uint32_t cursor_index = 0;  // a known (index, cluster) pair of the chain, 0 = none
    std::uint32_t cursor_cluster = 0;
  };
  struct HandleSlot {
    bool used = false;
    bool readable = false;
    bool writable = false;
    std::uint8_t node = 0;
    std::uint32_t generation = 0;
  };

  // volume.cpp: sectors, the FAT, allocation, the dirty bit.
  FsError fail(Corruption c);
  FsError read_sectors(std::uint64_t sector, std::span<std::byte> out);
  FsError write_sectors(std::uint64_t sector, std::span<const std::byte> in);
  Result<std::uint32_t> fat_get(std::uint32_t cluster);
  FsError fat_set(std::uint32_t cluster, std::uint32_t value);
  FsError flush_fat(bool first_fat_last = false);
  FsError barrier();
  FsError begin_change();
  FsError set_clean_bit(bool clean);
  Result<std::uint32_t> next_cluster(std::uint32_t cluster);  // 0 at the end of the chain
  Result<std::uint32_t> allocate_chain(std::uint32_t count);  // first cluster, zero not allowed
  FsError free_chain(std::uint32_t first);
  Result<std::uint32_t> count_free();
  FsError zero_cluster(std::uint32_t cluster);

  // directory.cpp: slots, scanning, lookup, entry creation and deletion.
  Result<std::uint64_t> slot_sector(std::uint32_t dir, std::uint32_t slot);
  Result<bool> read_slot(std::uint32_t dir, std::uint32_t slot, std::byte* raw32);
  FsError write_slot(std::uint32_t dir, std::uint32_t slot, const std::byte* raw32);
  Result<ScanResult> scan_next(DirScan& scan, Entry& out);
  Result<bool> find(std::uint32_t dir, std::string_view name, Entry& out);
  Result<bool> short_name_used(std::uint32_t dir, const ShortName& name);
  Result<std::uint32_t> find_free_slots(std::uint32_t dir, std::uint32_t count);
  FsError create_entry(std::uint32_t dir, const LongName& name, std::uint8_t attributes,
                       std::uint32_t cluster, std::uint32_t size, Entry& out);
  FsError delete_entry(const Entry& entry);
  FsError delete_slots(std::uint32_t dir, std::uint32_t first, std::uint32_t count);
  FsError update_entry(const Entry& entry, std::uint32_t cluster, std::uint32_t size,
                       std::uint8_t attributes);
  Result<bool> directory_empty(std::uint32_t dir);
  FsError set_dotdot(std::uint32_t dir, std::uint32_t parent);
  // Resolves every component but the last: the parent's cluster and the last name ("" for the
  // root). A directory on the way equal to forbidden (nonzero) gives kInvalidArgument.
  FsError resolve_parent(std::string_view path, std::uint32_t& parent, std::string_view& last,
                         std::uint32_t forbidden = 0);
  FsError resolve(std::string_view path, Entry& out, bool& is_root);

  // files.cpp: handles and file data.
  Result<std::uint32_t> cluster_at(Node& node, std::uint32_t index);
  FsError write_range(Node& node, std::uint64_t offset, std::span<const std::byte> data);
  FsError shrink(Node& node, std::uint32_t size);
  Node* node_of(FileHandle handle, HandleSlot** slot = nullptr);
  bool entry_open(std::uint32_t dir, std::uint32_t slot) const;
  FsError store_node(const Node& node);

  // repair.cpp
  FsError repair();
  FsError sync_fat_copies();
  FsError repair_pass(std::uint32_t window_first);

  DeviceRef device_;
  Geometry geometry_;
  bool read_only_ = false;
  bool dirty_on_disk_ = false;
  bool fsinfo_valid_ = false;
  Corruption corruption_ = Corruption::kNone;
  std::uint32_t free_count_ = 0;
  std::uint32_t next_free_ = 2;
  Timestamp now_;
  VolumeInfo info_;

  std::array<Node, kMaxOpenFiles> nodes_{};
  std::array<HandleSlot, kMaxOpenFiles> handles_{};

  alignas(8) std::array<std::byte, kMaxSectorSize> fat_cache_{};
  std::uint32_t fat_cache_sector_ = 0xFFFFFFFF;  // index inside the first FAT
  bool fat_cache_dirty_ = false;
  // A read-ahead copy of kFatWindowBytes of the first FAT (fat_get fills fat_cache_ from it):
  // sectors [fat_window_first_, + fat_window_count_) of the FAT, never older than the disk
  // (write_sectors copies what it writes there into it).
  static constexpr std::size_t kFatWindowBytes = 32 * 1024;
  alignas(8) std::array<std::byte, kFatWindowBytes> fat_window_{};
  std::uint32_t fat_window_first_ = 0;
  std::uint32_t fat_window_count_ = 0;
  alignas(8) std::array<std::byte, kMaxSectorSize> dir_cache_{};
  std::uint64_t dir_cache_sector_ = ~0ull;
  alignas(8) std::array<std::byte, kMaxSectorSize> io_buffer_{};

  static constexpr std::uint32_t kRepairWindow = 131072;  // clusters marked per repair pass
  std::array<std::uint8_t, kRepairWindow / 8> reachable_{};
  // slot_sector()'s memory of one directory position (cleared when a chain is freed).
  std::uint32_t slot_cache_dir_ = 0;
  std::uint32_t slot_cache_index_ = 0;
  std::uint32_t slot_cache_cluster_ = 0;
};

}  // namespace ukernel::fat32
