// Boot on AArch64: what runs after the back-end has initialised the machine.
//
// boot.S enters aarch64_boot() at EL1 with the MMU on, on the kernel stack; it brings up, in
// order: the exception vectors (boot.S), the console, physical memory, the GIC and the timer,
// global constructors, then calls kernel_main().
#pragma once

namespace ukernel::aarch64 {

// Implemented by the image (the kernel core, or a scenario): interrupts are masked, the kernel's
// address space is active and the frame allocator is ready. Never returns: it ends by
// resume()ing a thread or idle()ing.
[[noreturn]] void kernel_main();

// Runs the constructors of globals (src/arch/baremetal/runtime.cpp); boot calls it once, before
// kernel_main().
void run_global_constructors();

}  // namespace ukernel::aarch64
