//! The progress indicator: a spinner on stderr naming the phase of a long computation (the
//! heap graph, a profile export), shown only in interactive use ([`show_progress`]). The
//! engine reports phases through a callback ([`inspector_core::analysis::progress`]); this
//! module only renders them.

use std::cell::OnceCell;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use inspector_core::analysis::progress::Phase;

/// Whether to show progress: stderr is a terminal and neither `--batch` nor `--json` is on.
pub fn show_progress(batch: bool, json: bool, stderr_tty: bool) -> bool {
    stderr_tty && !batch && !json
}

/// A spinner started at the first phase (so that a result already computed shows nothing)
/// and cleared when dropped.
pub struct Spinner {
    enabled: bool,
    bar: OnceCell<ProgressBar>,
}

impl Spinner {
    pub fn new(enabled: bool) -> Spinner {
        Spinner {
            enabled,
            bar: OnceCell::new(),
        }
    }

    /// Show `phase`.
    pub fn phase(&self, phase: Phase) {
        if !self.enabled {
            return;
        }
        let bar = self.bar.get_or_init(|| {
            let b = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
            if let Ok(style) = ProgressStyle::with_template("{spinner} {msg} {elapsed}") {
                b.set_style(style);
            }
            b.enable_steady_tick(Duration::from_millis(120));
            b
        });
        bar.set_message(format!("{}…", phase.name()));
    }
}

impl Drop for Spinner {
    fn drop(&mut self) {
        if let Some(b) = self.bar.get() {
            b.finish_and_clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_interactive_use_shows_progress() {
        assert!(show_progress(false, false, true));
        assert!(!show_progress(true, false, true), "--batch");
        assert!(!show_progress(false, true, true), "--json");
        assert!(!show_progress(false, false, false), "stderr not a terminal");
    }

    #[test]
    fn a_disabled_spinner_draws_nothing() {
        let s = Spinner::new(false);
        s.phase(Phase::Mark);
        assert!(s.bar.get().is_none());
    }
}
