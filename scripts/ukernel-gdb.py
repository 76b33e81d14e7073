# gdb's side of scripts/gdb (sourced by the gdb session it starts; not run on its own).
#
# How this works: every server of a bare-metal system is linked at the same address
# (kRootImageBase), each in its own address space, and QEMU's gdbstub stops at a breakpoint's
# address whichever space is current. So a breakpoint in the named server's code must also ask
# "is that server running?". The server's thread starts at its ELF's entry with its index in the
# description in the first argument register (rdi, x0); the root task (the supervisor) is the
# first program to start there. A silent breakpoint at the entry notes the page-table root
# (CR3, TTBR0) of the server's space, and every breakpoint the user sets gets the condition
# $_ukernel_in_server(): true outside the addresses the server's program spans (the kernel),
# and inside them only in that space. A restart reloads the server into the same space, and
# the entry breakpoint notes it again anyway.
#
# On hosted every server image is a shared object in one process; the loader names each
# in-memory copy after its image (/proc/PID/fd/N is a memfd "system_<name>"), and the same
# condition is true outside the images (kernel, host libraries) and in the named one.
import os

import gdb


class UkernelConfig:
    target = ""  # hosted | x86_64 | aarch64
    server = ""  # "" (no filter) or the server's name
    index = -1  # the server's index in the description (bare metal)
    root = False  # the server is the root task (the supervisor)
    entry = 0  # the ELF entry of every user program (bare metal)
    low, high = 0, 0  # the addresses the server's program spans (bare metal)
    space = None  # the server's page-table root, once it has started
    typed = ""  # the file of lines scripts/gdb types at the shell (bare metal; `uk` appends)


# Page-table root bits that name the space (not flags, PCID or ASID).
_ROOT_MASK = {"x86_64": 0x000FFFFFFFFFF000, "aarch64": 0x0000FFFFFFFFFFFE}


def _space():
    if UkernelConfig.target == "x86_64":
        value = int(gdb.parse_and_eval("$cr3"))
    else:
        value = int(gdb.parse_and_eval("$TTBR0_EL1"))
    return value & _ROOT_MASK[UkernelConfig.target]


def _argument():
    register = "$rdi" if UkernelConfig.target == "x86_64" else "$x0"
    return int(gdb.parse_and_eval(register))


class _EntryBreakpoint(gdb.Breakpoint):
    """Notes the named server's space when its thread starts; never stops."""

    def stop(self):
        if UkernelConfig.root:
            if UkernelConfig.space is None:
                UkernelConfig.space = _space()
        elif _argument() == UkernelConfig.index:
            UkernelConfig.space = _space()
        return False


class _InServer(gdb.Function):
    """$_ukernel_in_server(): 1 if the code at $pc belongs to the kernel, the host or the server
    scripts/gdb was given; 0 in every other server (on bare metal: $pc in the program's span
    and another space current, or the server not started yet)."""

    def __init__(self):
        super().__init__("_ukernel_in_server")

    def invoke(self):
        pc = int(gdb.parse_and_eval("$pc"))
        if UkernelConfig.target == "hosted":
            name = gdb.solib_name(pc)
            if name is None or not name.startswith("/proc/"):
                return 1
            try:
                image = os.readlink(name)
            except OSError:
                return 1
            return int(image.startswith("/memfd:system_" + UkernelConfig.server + " "))
        if not UkernelConfig.low <= pc < UkernelConfig.high:
            return 1  # the kernel's code (every program is linked at the same addresses)
        return int(UkernelConfig.space is not None and _space() == UkernelConfig.space)


_CONDITION = "$_ukernel_in_server()"


def _on_breakpoint_created(breakpoint):
    if breakpoint.number <= 0 or breakpoint.type not in (
        gdb.BP_BREAKPOINT,
        gdb.BP_HARDWARE_BREAKPOINT,
    ):
        return
    # A pending breakpoint (hosted: its image not loaded yet) gets it once it has a location:
    # gdb disables a pending one whose condition it re-parses while no location exists.
    if breakpoint.pending:
        return
    condition = breakpoint.condition
    if condition is None:
        breakpoint.condition = _CONDITION
    elif _CONDITION not in condition:
        breakpoint.condition = "(%s) && %s" % (condition, _CONDITION)


class _TypeCommand(gdb.Command):
    """uk LINE: types LINE and Enter at the system's shell (serial console) once the shell has
    answered the line before; the guest reads it when it runs: `continue` after typing."""

    def __init__(self):
        super().__init__("uk", gdb.COMMAND_USER)

    def invoke(self, argument, from_tty):
        if not UkernelConfig.typed:
            raise gdb.GdbError("uk: on hosted the system reads this terminal: type at uk>")
        with open(UkernelConfig.typed, "a") as typed:
            typed.write(argument + "\n")


def ukernel_setup(target, server="", index=-1, root=False, entry=0, span=(0, 0), typed=""):
    UkernelConfig.target = target
    UkernelConfig.server = server
    UkernelConfig.index = index
    UkernelConfig.root = root
    UkernelConfig.entry = entry
    UkernelConfig.low, UkernelConfig.high = span
    UkernelConfig.typed = typed
    _InServer()
    _TypeCommand()
    if not server:
        return
    if target != "hosted":
        _EntryBreakpoint("*%#x" % entry, internal=True)
    gdb.events.breakpoint_created.connect(_on_breakpoint_created)
    gdb.events.breakpoint_modified.connect(_on_breakpoint_created)
