// Fresh server images for the hosted back-end (see include/ukernel/hosted/image.hpp).
#include "ukernel/hosted/image.hpp"

#include <dlfcn.h>
#include <fcntl.h>
#include <link.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdio>
#include <vector>

namespace ukernel::hosted {

namespace {

// Every loaded image: the host addresses its loadable segments span and its name;
// image_address searches it.
struct Loaded {
  const Image* image;
  word base;
  word end;
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
  int out = memfd_create(stem(path).c_str(), MFD_CLOEXEC);  // its name in /proc/PID/fd
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

// The host addresses the object loaded at `base` spans: its loadable segments.
struct Span {
  word base;
  word end = 0;
};

int find_span(dl_phdr_info* info, std::size_t, void* data) {
  auto* span = static_cast<Span*>(data);
  if (info->dlpi_addr != span->base) return 0;
  for (unsigned i = 0; i < info->dlpi_phnum; ++i) {
    const ElfW(Phdr)& ph = info->dlpi_phdr[i];
    if (ph.p_type == PT_LOAD && span->base + ph.p_vaddr + ph.p_memsz > span->end)
      span->end = span->base + ph.p_vaddr + ph.p_memsz;
  }
  return span->end != 0;
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
  // Through the process's id, not /proc/self: a debugger reads the name from the link map and
  // opens it itself (scripts/gdb), and its own /proc/self/fd/N is another file (or a pipe).
  char name[64];
  std::snprintf(name, sizeof name, "/proc/%d/fd/%d", int(getpid()), file_);
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
  // The span, so that image_address is a few comparisons (the trace asks it for every word it
  // records) instead of a walk of the loader's lists.
  link_map* map = nullptr;
  Span span{base_};
  if (dlinfo(handle_, RTLD_DI_LINKMAP, &map) == 0 && map != nullptr) span.base = map->l_addr;
  dl_iterate_phdr(find_span, &span);
  g_loaded.push_back({this, base_, span.end, stem(path_)});
  return reinterpret_cast<word>(entry);
}

ImageAddress image_address(word address) {
  for (const Loaded& l : g_loaded)
    if (address >= l.base && address < l.end) return {l.name, address - l.base};
  return {};
}

namespace {

// The program and the libraries it started with, found once: they stay where they are for the
// life of the process. Server images (loaded from /proc/self/fd/N) come and go: g_loaded has
// them.
struct Object {
  word base;
  word end;
  std::string name;
};

int add_object(dl_phdr_info* info, std::size_t, void* data) {
  auto* objects = static_cast<std::vector<Object>*>(data);
  std::string path = info->dlpi_name != nullptr ? info->dlpi_name : "";
  if (path.starts_with("/proc/self/fd/")) return 0;
  Object object{word(info->dlpi_addr), 0, path.empty() ? "program" : stem(path)};
  bool first = true;
  for (unsigned i = 0; i < info->dlpi_phnum; ++i) {
    const ElfW(Phdr)& ph = info->dlpi_phdr[i];
    if (ph.p_type != PT_LOAD) continue;
    word start = word(info->dlpi_addr + ph.p_vaddr);
    word end = start + word(ph.p_memsz);
    if (first || end > object.end) object.end = end;
    first = false;
  }
  // The program is the first object the loader reports (with no name); a library's name is its
  // path. A later nameless object (the vDSO on some kernels) is left out.
  if (!first && (!path.empty() || objects->empty())) objects->push_back(object);
  return 0;
}

const std::vector<Object>& startup_objects() {
  static const std::vector<Object> objects = [] {
    std::vector<Object> found;
    dl_iterate_phdr(add_object, &found);
    return found;
  }();
  return objects;
}

}  // namespace

ImageAddress loaded_object_address(word address) {
  if (ImageAddress where = image_address(address); !where.image.empty()) return where;
  for (const Object& o : startup_objects())
    if (address >= o.base && address < o.end) return {o.name, address - o.base};
  return {};
}

}  // namespace ukernel::hosted
