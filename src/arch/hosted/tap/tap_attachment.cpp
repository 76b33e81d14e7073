// The TAP attachment (see include/ukernel/hosted/tap_attachment.hpp).
#include "ukernel/hosted/tap_attachment.hpp"

#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>

namespace ukernel::hosted {

std::unique_ptr<TapAttachment> TapAttachment::create(const std::string& name, std::string* error) {
  const auto fail = [error](std::string why) {
    if (error != nullptr) *error = std::move(why);
    return nullptr;
  };
  if (name.empty() || name.size() >= IFNAMSIZ)
    return fail("tap: an interface name is 1 to 15 characters");
  const int fd = ::open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return fail(std::string("tap: cannot open /dev/net/tun: ") + std::strerror(errno));
  ifreq request{};
  request.ifr_flags = IFF_TAP | IFF_NO_PI;
  std::memcpy(request.ifr_name, name.data(), name.size());
  if (::ioctl(fd, TUNSETIFF, &request) != 0) {
    const int why = errno;
    ::close(fd);
    return fail("tap: cannot create " + name + ": " + std::strerror(why));
  }
  return std::unique_ptr<TapAttachment>(new TapAttachment(fd, name));
}

TapAttachment::~TapAttachment() {
  ::close(fd_);  // the interface goes with its last descriptor
}

bool TapAttachment::send(std::span<const std::byte> frame) {
  if (frame.size() < NetWire::kMinFrameBytes || frame.size() > NetWire::kMaxFrameBytes ||
      ::write(fd_, frame.data(), frame.size()) != static_cast<ssize_t>(frame.size())) {
    ++stats_.frames_refused;
    return false;
  }
  ++stats_.frames_to_network;
  return true;
}

void TapAttachment::poll(int timeout_ms) {
  pollfd descriptor{fd_, POLLIN, 0};
  if (::poll(&descriptor, 1, to_device_.empty() ? timeout_ms : 0) <= 0) return;
  std::array<std::byte, 65536> buffer{};
  for (;;) {
    const ssize_t got = ::read(fd_, buffer.data(), buffer.size());
    if (got <= 0) return;  // EAGAIN: nothing more
    const auto length = static_cast<std::size_t>(got);
    if (length < NetWire::kMinFrameBytes || length > NetWire::kMaxFrameBytes ||
        to_device_.size() >= kMaxQueuedFrames || endpoint_ == nullptr) {
      ++stats_.frames_dropped;
      continue;
    }
    to_device_.emplace_back(buffer.begin(), buffer.begin() + got);
  }
}

std::size_t TapAttachment::deliver(std::size_t max_frames) {
  std::size_t handed = 0;
  while (handed < max_frames && !to_device_.empty()) {
    const std::vector<std::byte> frame = std::move(to_device_.front());
    to_device_.pop_front();
    if (endpoint_ == nullptr) {
      ++stats_.frames_dropped;
      continue;
    }
    ++stats_.frames_from_network;
    ++handed;
    endpoint_->receive(frame);
  }
  return handed;
}

}  // namespace ukernel::hosted
