//! Architecture-specific facts: register sets and their layout in core notes.
//! Every amd64 assumption of the target layer lives here so that arm64 can follow.

/// ELF `e_machine` for x86-64.
pub const EM_X86_64: u16 = 62;

/// The target architecture. Only amd64 is implemented.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arch {
    Amd64,
}

impl Arch {
    /// The GOARCH spelling.
    pub fn goarch(self) -> &'static str {
        match self {
            Arch::Amd64 => "amd64",
        }
    }
    /// ELF `e_machine` value.
    pub fn elf_machine(self) -> u16 {
        match self {
            Arch::Amd64 => EM_X86_64,
        }
    }
    pub fn from_elf_machine(m: u16) -> Option<Arch> {
        match m {
            EM_X86_64 => Some(Arch::Amd64),
            _ => None,
        }
    }
}

/// Names of amd64 `user_regs_struct` slots, in the order NT_PRSTATUS stores them.
pub const AMD64_REG_NAMES: [&str; 27] = [
    "r15", "r14", "r13", "r12", "rbp", "rbx", "r11", "r10", "r9", "r8", "rax", "rcx", "rdx", "rsi",
    "rdi", "orig_rax", "rip", "cs", "eflags", "rsp", "ss", "fs_base", "gs_base", "ds", "es", "fs",
    "gs",
];

/// A thread's general registers as the core recorded them (amd64 `user_regs_struct`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registers {
    pub arch: Arch,
    pub values: Vec<u64>,
}

impl Registers {
    fn get(&self, name: &str) -> u64 {
        AMD64_REG_NAMES
            .iter()
            .position(|n| *n == name)
            .and_then(|i| self.values.get(i).copied())
            .unwrap_or(0)
    }
    pub fn pc(&self) -> u64 {
        self.get("rip")
    }
    pub fn sp(&self) -> u64 {
        self.get("rsp")
    }
    pub fn bp(&self) -> u64 {
        self.get("rbp")
    }
    /// The thread-local storage base (amd64 `fs_base`).
    pub fn tls_base(&self) -> u64 {
        self.get("fs_base")
    }
    /// Register values with their names, in note order.
    pub fn named(&self) -> impl Iterator<Item = (&'static str, u64)> + '_ {
        AMD64_REG_NAMES
            .iter()
            .copied()
            .zip(self.values.iter().copied())
    }
}
