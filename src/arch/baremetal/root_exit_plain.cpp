// check_at_root_exit() of every image but the hostile one (arch/root_task.hpp): nothing to
// check, so the invariant checker stays out of those kernels.
#include "arch/root_task.hpp"

namespace ukernel {

bool baremetal::check_at_root_exit() {
  return true;
}

}  // namespace ukernel
