// The shell's file commands: the shell is a client of the fs server (examples/fs/fs_client.hpp)
// with its own shared region ("shell-fs"), through which paths and file data travel.
//
//   ls [PATH]  cat PATH  write PATH TEXT...  append PATH TEXT...  mkdir PATH  rmdir PATH  rm PATH
//   mv FROM TO  stat PATH  sum PATH  sync
//
// `write` creates or truncates the file, `append` creates it or adds to its end; both write the
// words with one space between them and a newline, then close the file, so a command that
// printed no error is on the disk (the fs server's durability promise). `sum` prints the size
// and the CRC-32 that Python's zlib.crc32 gives. Success is silent except for what a command
// shows; an error is one line naming the command, the path and the error (fat32::describe).
//
// The fs server is found by name before each command (NamedEndpoint): after a restart of it the
// next command finds the new one; a command it crashed in answers "I/O error".
#pragma once

#include <span>
#include <string_view>

#include "fs/fat32/crc32.hpp"
#include "fs/fs_client.hpp"
#include "system/runtime.hpp"

namespace system_example {

// Out: what the shell prints through: out(text), and print(format, args...) for short lines.
template <class Out>
class FileCommands {
 public:
  using FsError = ukernel::fs::FsError;
  static constexpr std::string_view kHelp =
      "files: ls [PATH], cat PATH, write PATH TEXT..., append PATH TEXT..., mkdir PATH, "
      "rmdir PATH, rm PATH, mv FROM TO, stat PATH, sum PATH, sync";

  FileCommands(Runtime& runtime, Out& out, ukernel::SharedRegion region)
      : out_(out), fs_endpoint_(runtime, "fs"), files_(fs_endpoint_.slot(), region) {}

  static constexpr std::string_view kBenchPath = "/bench.dat";
  static constexpr std::uint64_t kMaxBenchBytes = std::uint64_t{1} << 30;

  // `bench fswrite SIZE` writes SIZE bytes to /bench.dat (created or truncated) and closes it
  // (on the disk when it returns); `bench fsread SIZE` reads the first SIZE bytes of it. Both go
  // through the data area of the shell's region with no copy on the shell's side (as `dd` to
  // /dev/null does: the bytes are neither checked nor kept), and time everything from the open
  // to the close with the platform's cycle counter, less the ticks the kernel spent halted
  // (docs/performance.md, storage). SIZE: bytes, or a number with K or M (1024s), 1 to 1024M.
  void bench(std::string_view which, std::span<const std::string_view> args) {
    std::uint64_t size = 0;
    if (args.size() != 1 || !parse_size(args[0], size)) {
      out_.print("usage: bench {} SIZE (bytes, or with K or M; 1 to 1024M)\n", which);
      return;
    }
    if (!connected(which)) return;
    const bool writing = which == "fswrite";
    if (writing) {  // the bytes written: a pattern, filled before the clock starts
      std::span<std::byte> area = files_.data();
      for (std::size_t i = 0; i < area.size(); ++i)
        area[i] = static_cast<std::byte>(i * 7 + i / 4096);
    }
    const word idle_before = ukernel::debug_idle_ticks();
    const word start = Platform::cycle_count();
    std::uint64_t calls = 0, done = 0;
    FsError e = writing ? bench_write(size, calls) : bench_read(size, calls, done);
    const word ticks = Platform::cycle_count() - start;
    const word halted = ukernel::debug_idle_ticks() - idle_before;
    if (!report(writing ? "bench fswrite" : "bench fsread", kBenchPath, e)) return;
    if (!writing && done < size) {  // the figure would be of a shorter read
      out_.print("bench fsread: ");
      out_.out(kBenchPath);
      out_.print(" holds {} bytes, fewer than {}: run bench fswrite {} first\n", done, size, size);
      return;
    }
    out_.print("bench {}: {} bytes of ", which, size);
    out_.out(kBenchPath);
    out_.print(" in {} fs calls\n", calls);
    if (!Platform::kHasCycleCounter) {
      out_.print("bench {}: no cycle counter on this back-end\n", which);
      return;
    }
    const word running = ticks > halted ? ticks - halted : 0;
    out_.print("bench {}: {} ticks running, {} halted\n", which, running, halted);
    // Per KiB, rounded: the figure benchmarks/fs_qemu.sh reads.
    out_.print("bench: fs_{}_ticks_per_kib {}\n", writing ? "write" : "read",
               (running * 1024 + size / 2) / size);
  }

  // Runs `command` with `args` (the words after it) if it is a file command; false if not.
  bool run(std::string_view command, std::span<const std::string_view> args) {
    if (command == "ls") {
      if (args.size() <= 1 && connected(command)) ls(args.empty() ? "/" : args[0]);
      if (args.size() > 1) usage("ls [PATH]");
    } else if (command == "cat" || command == "sum" || command == "stat" || command == "mkdir" ||
               command == "rmdir" || command == "rm") {
      if (args.size() != 1) {
        out_.print("usage: {} PATH\n", command);
      } else if (connected(command)) {
        one_path(command, args[0]);
      }
    } else if (command == "write" || command == "append") {
      if (args.empty()) {
        out_.print("usage: {} PATH TEXT...\n", command);
      } else if (connected(command)) {
        write(command, args[0], args.subspan(1), command == "append");
      }
    } else if (command == "mv") {
      if (args.size() != 2) {
        usage("mv FROM TO");
      } else if (connected(command)) {
        report(command, args[0], files_.rename(args[0], args[1]));
      }
    } else if (command == "sync") {
      if (!args.empty()) {
        usage("sync");
      } else if (connected(command)) {
        report(command, "", files_.sync());
      }
    } else {
      return false;
    }
    return true;
  }

 private:
  void usage(std::string_view text) { out_.print("usage: {}\n", text); }

  bool connected(std::string_view command) {
    Error e = fs_endpoint_.refresh();
    if (e == Error::kOk) return true;
    out_.print("{}: the file system is not running (error {})\n", command, word(e));
    return false;
  }

  // Prints "COMMAND: PATH: ERROR" unless e is kOk; true if it was.
  bool report(std::string_view command, std::string_view path, FsError e) {
    if (e == FsError::kOk) return true;
    out_.print("{}: ", command);
    if (!path.empty()) {
      out_.out(path);
      out_.out(": ");
    }
    out_.print("{}\n", ukernel::fat32::describe(e));
    return false;
  }

  void one_path(std::string_view command, std::string_view path) {
    if (command == "cat") {
      cat(path);
    } else if (command == "sum") {
      sum(path);
    } else if (command == "stat") {
      stat(path);
    } else if (command == "mkdir") {
      report(command, path, files_.mkdir(path));
    } else if (command == "rmdir") {
      report(command, path, files_.rmdir(path));
    } else {
      report(command, path, files_.unlink(path));
    }
  }

  void ls(std::string_view path) {
    ukernel::fs::StatReply what = files_.stat(path);
    if (!report("ls", path, what.status)) return;
    if (!what.is_directory) {  // a file: list it alone
      out_.print("{:>12}  ", what.size);
      out_.out(path);
      out_.out("\n");
      return;
    }
    report("ls", path, files_.list(path, [&](std::string_view name, const auto& record) {
      if (record.is_directory != 0) {
        out_.print("{:>12}  ", "<dir>");
      } else {
        out_.print("{:>12}  ", record.size);
      }
      out_.out(name);
      out_.out(record.is_directory != 0 ? "/\n" : "\n");
    }));
  }

  // Reads the file from the start, giving each piece to `each`; its size, or an error.
  template <class F>
  ukernel::fat32::Result<std::uint64_t> read_all(std::string_view command, std::string_view path,
                                                 F&& each) {
    auto handle = files_.open(path, ukernel::fs::Open::kRead);
    if (!report(command, path, handle.error)) return handle.error;
    std::uint64_t offset = 0;
    for (;;) {
      auto got = files_.read(handle.value, offset, buffer());
      if (!report(command, path, got.error)) {
        (void)files_.close(handle.value);
        return got.error;
      }
      each(buffer().first(got.value));
      offset += got.value;
      if (got.value < buffer().size()) break;
    }
    (void)files_.close(handle.value);
    return offset;
  }

  void cat(std::string_view path) {
    char last = '\n';
    (void)read_all("cat", path, [&](std::span<const std::byte> bytes) {
      out_.out(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
      if (!bytes.empty()) last = static_cast<char>(bytes.back());
    });
    if (last != '\n') out_.out("\n");  // the prompt on a line of its own
  }

  void sum(std::string_view path) {
    std::uint32_t crc = 0;
    auto size = read_all("sum", path, [&](std::span<const std::byte> bytes) {
      crc = ukernel::fat32::crc32_update(crc, bytes);
    });
    if (!size.ok()) return;
    out_.print("{} bytes, crc32 {:08x}  ", size.value, crc);
    out_.out(path);
    out_.out("\n");
  }

  void stat(std::string_view path) {
    ukernel::fs::StatReply s = files_.stat(path);
    if (!report("stat", path, s.status)) return;
    out_.out(path);
    // FAT's date and time: years since 1980, month, day; hours, minutes, 2-second units.
    out_.print(": {}, {} bytes, modified {}-{:02}-{:02} {:02}:{:02}:{:02}, attributes {:#04x}\n",
               s.is_directory ? "directory" : "file", s.size, 1980 + (s.date >> 9),
               s.date >> 5 & 15, s.date & 31, s.time >> 11, s.time >> 5 & 63, (s.time & 31) * 2,
               s.attributes);
  }

  void write(std::string_view command, std::string_view path,
             std::span<const std::string_view> words, bool append) {
    // The text: the words, one space between them, and a newline (no longer than the line).
    std::size_t n = 0;
    std::span<std::byte> text = buffer();
    auto put = [&](std::string_view part) {
      for (char c : part) {
        if (n < text.size()) text[n++] = static_cast<std::byte>(c);
      }
    };
    for (std::size_t i = 0; i < words.size(); ++i) {
      if (i > 0) put(" ");
      put(words[i]);
    }
    put("\n");
    using ukernel::fs::Open;
    const std::uint8_t flags = Open::kWrite | Open::kCreate | (append ? 0 : Open::kTruncate);
    auto handle = files_.open(path, flags);
    if (!report(command, path, handle.error)) return;
    std::uint64_t at = 0;
    if (append) {
      ukernel::fs::StatReply s = files_.fstat(handle.value);
      if (!report(command, path, s.status)) {
        (void)files_.close(handle.value);
        return;
      }
      at = s.size;
    }
    auto written = files_.write(handle.value, at, text.first(n));
    if (!report(command, path, written.error)) {
      (void)files_.close(handle.value);
      return;
    }
    report(command, path, files_.close(handle.value));  // kOk: on the disk
  }

  // SIZE of `bench`: digits, then nothing, K or M; 1 to kMaxBenchBytes.
  static bool parse_size(std::string_view text, std::uint64_t& size) {
    std::uint64_t unit = 1;
    if (!text.empty() && (text.back() == 'K' || text.back() == 'M')) {
      unit = text.back() == 'K' ? 1024 : 1024 * 1024;
      text.remove_suffix(1);
    }
    if (text.empty() || text.size() > 10) return false;
    std::uint64_t n = 0;
    for (char c : text) {
      if (c < '0' || c > '9') return false;
      n = n * 10 + std::uint64_t(c - '0');
    }
    if (n == 0 || n > kMaxBenchBytes / unit) return false;
    size = n * unit;
    return true;
  }

  FsError bench_write(std::uint64_t size, std::uint64_t& calls) {
    using ukernel::fs::Open;
    auto handle = files_.open(kBenchPath, Open::kWrite | Open::kCreate | Open::kTruncate);
    if (handle.error != FsError::kOk) return handle.error;
    for (std::uint64_t done = 0; done < size; ++calls) {
      auto put = files_.write_in_place(handle.value, done, size - done);
      if (put.error != FsError::kOk) {
        (void)files_.close(handle.value);
        return put.error;
      }
      done += put.value;
    }
    return files_.close(handle.value);  // kOk: on the disk
  }

  // Reads up to `size` bytes; `done`: how many there were (fewer if the file is shorter).
  FsError bench_read(std::uint64_t size, std::uint64_t& calls, std::uint64_t& done) {
    auto handle = files_.open(kBenchPath, ukernel::fs::Open::kRead);
    if (handle.error != FsError::kOk) return handle.error;
    FsError e = FsError::kOk;
    while (done < size) {
      auto got = files_.read_in_place(handle.value, done, size - done);
      ++calls;
      if (got.error != FsError::kOk) e = got.error;
      if (got.error != FsError::kOk || got.value == 0) break;
      done += got.value;
    }
    FsError closed = files_.close(handle.value);
    return e != FsError::kOk ? e : closed;
  }

  // Where file data is read to and written from (the region's data area is the fs client's).
  static std::span<std::byte> buffer() {
    alignas(8) static std::byte bytes[64 * 1024];
    return bytes;
  }

  Out& out_;
  NamedEndpoint fs_endpoint_;
  ukernel::fs::Client files_;
};

}  // namespace system_example
