// Fresh server images for the hosted back-end (see include/ukernel/hosted/image.hpp).
#include "ukernel/hosted/image.hpp"

#include <dlfcn.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdio>
#include <vector>

namespace ukernel::hosted {

namespace {

// Every loaded image: its start, its one-past-the-end (from the loader's view of the mapped
// object) and its name; image_address searches it.
struct Loaded {
  const Image* image;
  word base;
  std::string name;
};
std::vector<Loaded> g_loaded;

std::string stem(const std::string& path) {
  std::string name = path.substr(path.rfind('/') + 1);
  if (name.size() > 3 && name.compare(name.size() - 3, 3, ".so") == 0) name.resize(name.size() - 3);
  return name;
}

// Copies `path` into a new in-memory file; returns its descriptor or -1.
int copy_to_memory_file(const std::string& path, std::string& error) {
  int in = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (in < 0) {
    error = "cannot open image " + path;
    return -1;
  }
  int out = memfd_create("ukernel-image", MFD_CLOEXEC);
  char buffer[1 << 16];
  ssize_t n = 0;
  while (out >= 0 && (n = read(in, buffer, sizeof buffer)) > 0) {
    if (write(out, buffer, std::size_t(n)) != n) n = -1;
    if (n < 0) break;
  }
  close(in);
  if (out < 0 || n < 0) {
    if (out >= 0) close(out);
    error = "cannot copy image " + path + " to memory";
    return -1;
  }
  return out;
}

}  // namespace

Image::~Image() {
  unload();
}

void Image::unload() {
  std::erase_if(g_loaded, [this](const Loaded& l) { return l.image == this; });
  base_ = 0;
  if (handle_ != nullptr) dlclose(handle_);
  if (file_ >= 0) close(file_);
  handle_ = nullptr;
  file_ = -1;
}

word Image::load_fresh() {
  unload();
  error_.clear();
  file_ = copy_to_memory_file(path_, error_);
  if (file_ < 0) return 0;
  char name[64];
  std::snprintf(name, sizeof name, "/proc/self/fd/%d", file_);
  handle_ = dlopen(name, RTLD_NOW | RTLD_LOCAL);
  if (handle_ == nullptr) {
    const char* why = dlerror();
    error_ = "cannot load image " + path_ + ": " + (why ? why : "unknown error");
    unload();
    return 0;
  }
  void* entry = dlsym(handle_, kImageEntrySymbol);
  if (entry == nullptr) {
    error_ = "image " + path_ + " has no entry point " + kImageEntrySymbol;
    unload();
    return 0;
  }
  ++loads_;
  Dl_info info{};
  if (dladdr(entry, &info) != 0) base_ = reinterpret_cast<word>(info.dli_fbase);
  g_loaded.push_back({this, base_, stem(path_)});
  return reinterpret_cast<word>(entry);
}

ImageAddress image_address(word address) {
  // The image whose start is the closest below `address`, if the loader agrees the address is
  // in that object.
  Dl_info info{};
  if (dladdr(reinterpret_cast<void*>(address), &info) == 0) return {};
  word base = reinterpret_cast<word>(info.dli_fbase);
  for (const Loaded& l : g_loaded)
    if (l.base == base) return {l.name, address - base};
  return {};
}

}  // namespace ukernel::hosted
