// Server images on the hosted back-end.
//
// On bare metal a restarted server starts from its ELF again, so its globals are fresh. The
// hosted back-end gets the same guarantee by building each server as a shared object and
// loading a fresh copy for every start: each load goes through its own in-memory file, so the
// dynamic loader never hands back the old instance, and the previous copy is unloaded.
//
// The image's entry point is `extern "C" void ukernel_image_main(ukernel::word arg)`.
#pragma once

#include <string>
#include <string_view>

#include "ukernel/abi.hpp"

namespace ukernel::hosted {

inline constexpr const char* kImageEntrySymbol = "ukernel_image_main";

class Image {
 public:
  explicit Image(std::string path) : path_(std::move(path)) {}
  ~Image();
  Image(const Image&) = delete;
  Image& operator=(const Image&) = delete;

  // Loads a fresh copy (the previous one, if any, is unloaded: its thread must be stopped) and
  // returns the entry address to start a thread at; 0 on failure, with the reason in error().
  [[nodiscard]] word load_fresh();
  const std::string& error() const { return error_; }
  const std::string& path() const { return path_; }
  unsigned loads() const { return loads_; }
  // Where the loaded copy starts in the host's address space (0: not loaded).
  word base() const { return base_; }

 private:
  void unload();
  std::string path_;
  std::string error_;
  void* handle_ = nullptr;
  int file_ = -1;
  unsigned loads_ = 0;
  word base_ = 0;
};

// Which loaded image holds host address `address`: its file's name without folder and ".so"
// ("system_names"), and the address relative to the image's start. Host addresses differ from
// run to run (ASLR, dlopen); an image-relative address does not, so traces and fault schedules
// that name one compare across runs. Empty name: no loaded image holds it.
struct ImageAddress {
  std::string_view image;
  word offset = 0;
};
ImageAddress image_address(word address);

// The same for every host address a trace may record: a server image's (image_address), else
// one in the program or a shared library it was started with, named by its file ("program" for
// the program itself), relative to where the loader put it. ASLR moves them all from one process
// to the next, so a trace names them this way to compare with a replay's in another process.
ImageAddress loaded_object_address(word address);

}  // namespace ukernel::hosted
