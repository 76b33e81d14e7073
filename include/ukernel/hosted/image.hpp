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

 private:
  void unload();
  std::string path_;
  std::string error_;
  void* handle_ = nullptr;
  int file_ = -1;
  unsigned loads_ = 0;
};

}  // namespace ukernel::hosted
