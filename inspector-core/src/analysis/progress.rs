//! Progress of long computations (the heap graph, profile export) as named phases, reported
//! through a plain callback so that the library holds no terminal code: the binary decides
//! whether and how to show them.

/// A phase of a long computation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Walking the heap's spans.
    Heap,
    /// Reading goroutines and unwinding their stacks.
    Goroutines,
    /// Enumerating the roots.
    Roots,
    /// Marking from the roots.
    Mark,
    /// Typing the reachable objects and grouping them.
    Types,
    /// The parent tree (a shortest path from a root to every reachable object).
    Paths,
    /// Building and writing a profile.
    Profile,
}

impl Phase {
    /// What the phase does, for a progress line.
    pub fn name(self) -> &'static str {
        match self {
            Phase::Heap => "walking the heap",
            Phase::Goroutines => "reading goroutines",
            Phase::Roots => "enumerating roots",
            Phase::Mark => "marking",
            Phase::Types => "typing objects",
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
            Phase::Goroutines,
            Phase::Roots,
            Phase::Mark,
            Phase::Types,
            Phase::Paths,
            Phase::Profile,
        ] {
            assert!(!p.name().is_empty());
        }
        quiet(Phase::Heap);
    }
}
