//! Views built on the runtime layer: span summaries and filters ([`spans`]), the walk reconciled
//! with the runtime's counters ([`overview`]).

pub mod fields;
pub mod goroutine_view;
pub mod heapgraph;
pub mod histogram;
pub mod mark;
pub mod objects_by_type;
pub mod objtypes;
pub mod overview;
pub mod parent_tree;
pub mod paths;
pub mod progress;
pub mod referrers;
pub mod region;
pub mod roottypes;
pub mod spans;
pub mod whoalloc;
