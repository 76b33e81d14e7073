// The consumer's root task on bare metal (ukernel_add_root_task): boot_info() checks the
// kernel's ABI version, then the task finds the greeter among the image's boot modules
// (ukernel_add_image ... SERVERS greeter). Returning 0 ends the system with success.
#include "ukernel/boot_modules.hpp"
#include "ukernel/syscall.hpp"

extern "C" ukernel::word user_main(ukernel::word boot_info_address) {
  const ukernel::BootInfo* info = ukernel::boot_info(boot_info_address);
  ukernel::boot_modules::Archive archive;
  ukernel::boot_modules::Module greeter;
  if (ukernel::boot_modules::Archive::open(reinterpret_cast<const void*>(info->modules_vaddr),
                                           info->modules_size,
                                           archive) != ukernel::boot_modules::Error::kOk ||
      !archive.find("greeter", greeter)) {
    (void)ukernel::debug_write("consumer: no greeter among the boot modules\n");
    return 1;
  }
  (void)ukernel::debug_write("consumer: root task up, the greeter is a boot module\n");
  return 0;
}
