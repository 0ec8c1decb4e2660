//! Progress of long computations (the heap graph, profile export) as named phases, reported
//! through a plain callback so that the library holds no terminal code: the binary decides
//! whether and how to show them.

/// A phase of a long computation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Walking the heap's spans, reading goroutines and unwinding their stacks.
    Heap,
    /// Enumerating the roots and typing the typed ones (global and stack variables,
    /// finalizers), while the marking index is built.
    Roots,
    /// Marking from the roots, typing the objects reached.
    Mark,
    /// The parent tree (a shortest path from a root to every reachable object).
    Paths,
    /// Building and writing a profile.
    Profile,
}

impl Phase {
    /// What the phase does, for a progress line.
    pub fn name(self) -> &'static str {
        match self {
            Phase::Heap => "walking the heap and stacks",
            Phase::Roots => "enumerating and typing roots",
            Phase::Mark => "marking and typing",
            Phase::Paths => "paths from roots",
            Phase::Profile => "writing the profile",
        }
    }
}

/// A progress callback: told each phase as it starts.
pub type Progress<'a> = &'a dyn Fn(Phase);

/// A callback that shows nothing.
pub fn quiet(_: Phase) {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phases_have_names() {
        for p in [
            Phase::Heap,
            Phase::Roots,
            Phase::Mark,
            Phase::Paths,
            Phase::Profile,
        ] {
            assert!(!p.name().is_empty());
        }
        quiet(Phase::Heap);
    }
}
