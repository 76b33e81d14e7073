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
