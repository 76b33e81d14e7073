#include "ukernel/syscall.hpp"
using namespace ukernel;
extern "C" word user_main(word boot_info_address) {
  (void)debug_write("root: hello from the root task\n");
  const BootInfo* info = boot_info(boot_info_address);
  return info->first_free_slot > 0 ? 0 : 1;
}
