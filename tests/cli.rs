//! End-to-end tests of the `goheap` binary's command line: help, version, usage errors (exit 2),
//! targets that cannot be opened (exit 1) and a closed stdout. Command parsing and dispatch are
//! tested inside the crate, where no target is needed.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn goheap() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_goheap"));
    // Keep the tests away from the user's history file, and make stdin not a terminal.
    let home = std::env::temp_dir().join("goheap-cli-test-home");
    cmd.env("HOME", &home)
        .env("XDG_STATE_HOME", home.join("state"))
        .stdin(Stdio::null());
    cmd
}

fn run(args: &[&str]) -> Output {
    goheap().args(args).output().expect("goheap runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Assert `out` exited with `code`, printed nothing on stdout and exactly one stderr line
/// starting with `goheap:`; return that line.
fn one_error_line(out: &Output, code: i32) -> String {
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(
        out.status.code(),
        Some(code),
        "stdout: {stdout}\nstderr: {stderr}"
    );
    assert_eq!(stdout, "", "nothing on stdout");
    assert_eq!(
        stderr.lines().count(),
        1,
        "one line on stderr, got:\n{stderr}"
    );
    assert!(stderr.ends_with('\n'), "{stderr:?}");
    assert!(stderr.starts_with("goheap: "), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    stderr.trim_end().to_string()
}

fn s(p: &Path) -> &str {
    p.to_str().expect("temp paths are UTF-8")
}

/// A temporary directory with files for the target tests.
struct Files {
    dir: tempfile::TempDir,
}

impl Files {
    fn new() -> Files {
        Files {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn file(&self, name: &str, contents: &[u8]) -> PathBuf {
        let p = self.dir.path().join(name);
        std::fs::write(&p, contents).unwrap();
        p
    }

    fn missing(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Bytes that are neither ELF nor anything else.
    fn garbage(&self, name: &str) -> PathBuf {
        let bytes: Vec<u8> = (0..4096u32)
            .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
            .collect();
        self.file(name, &bytes)
    }
}

#[test]
fn version() {
    for flag in ["--version", "-version", "-V"] {
        let out = run(&[flag]);
        assert_eq!(out.status.code(), Some(0), "{flag}");
        assert_eq!(
            text(&out.stdout).trim(),
            format!("goheap {}", env!("CARGO_PKG_VERSION")),
            "{flag}"
        );
        assert_eq!(text(&out.stderr), "");
    }
}

#[test]
fn help() {
    for flag in ["--help", "-h", "-help"] {
        let out = run(&[flag]);
        assert_eq!(out.status.code(), Some(0), "{flag}");
        let help = text(&out.stdout);
        for needle in [
            "goheap [OPTIONS] core <EXE> <CORE> [COMMAND]...",
            "goheap [OPTIONS] <EXE> <CORE> [COMMAND]...",
            "--ex <CMD>",
            "--eval-command",
            "--command <FILE>",
            "--batch",
            "--json",
            "--quiet",
            "-ex, -batch",
            "Exit status",
        ] {
            assert!(
                help.contains(needle),
                "{flag}: help lacks {needle:?}:\n{help}"
            );
        }
        assert_eq!(text(&out.stderr), "");
    }
}

#[test]
fn usage_errors_exit_2_with_one_line() {
    let f = Files::new();
    let exe = f.file("app", b"x");
    let core = f.file("core", b"x");
    for (args, needle) in [
        (vec!["--frobnicate", s(&exe), s(&core)], "--frobnicate"),
        (vec!["-frobnicate", s(&exe), s(&core)], "-frobnicate"),
        (vec![], "missing <EXE> and <CORE>"),
        (vec!["core"], "missing <EXE> and <CORE>"),
        (vec!["core", s(&exe)], "missing <CORE>"),
        (vec![s(&exe)], "missing <CORE>"),
        (vec![s(&exe), s(&core), "-ex"], "--ex"),
        (vec!["-x"], "<FILE>"),
    ] {
        let line = one_error_line(&run(&args), 2);
        assert!(line.contains(needle), "{args:?}: {line}");
        assert!(line.contains("goheap --help"), "{args:?}: {line}");
    }
}

#[test]
fn missing_exe_exits_1_naming_it() {
    let f = Files::new();
    let exe = f.missing("no-such-app");
    let core = f.garbage("core");
    for args in [
        vec!["core", s(&exe), s(&core)],
        vec![s(&exe), s(&core)],
        vec!["--batch", "-ex", "overview", "core", s(&exe), s(&core)],
    ] {
        let line = one_error_line(&run(&args), 1);
        assert!(line.contains(s(&exe)), "{line}");
        assert!(line.contains("No such file or directory"), "{line}");
    }
}

#[test]
fn missing_core_exits_1_naming_it() {
    let f = Files::new();
    let exe = f.garbage("app");
    let core = f.missing("no-such-core");
    let line = one_error_line(&run(&["core", s(&exe), s(&core)]), 1);
    assert!(line.contains(s(&core)), "{line}");
}

#[test]
fn empty_files_exit_1_naming_them() {
    let f = Files::new();
    let empty = f.file("empty", b"");
    let garbage = f.garbage("garbage");
    for (exe, core) in [(&empty, &garbage), (&garbage, &empty)] {
        let line = one_error_line(&run(&["core", s(exe), s(core)]), 1);
        assert!(line.contains(s(&empty)), "{line}");
        assert!(line.contains("empty"), "{line}");
    }
}

#[test]
fn directory_as_target_exits_1() {
    let f = Files::new();
    let exe = f.garbage("app");
    let line = one_error_line(&run(&["core", s(&exe), s(f.dir.path())]), 1);
    assert!(line.contains("is a directory"), "{line}");
}

#[test]
fn garbage_exe_exits_1_naming_it() {
    let f = Files::new();
    let exe = f.garbage("app.garbage");
    let core = f.garbage("core.garbage");
    for extra in [&[][..], &["--json"], &["--batch", "-ex", "spans -summary"]] {
        let mut args = extra.to_vec();
        args.extend(["core", s(&exe), s(&core)]);
        let line = one_error_line(&run(&args), 1);
        assert!(line.contains(s(&exe)), "{args:?}: {line}");
    }
}

#[test]
fn non_go_elf_exe_exits_1_naming_it() {
    // The goheap binary itself: a valid ELF without a Go runtime.
    let f = Files::new();
    let exe = env!("CARGO_BIN_EXE_goheap");
    let core = f.garbage("core");
    let line = one_error_line(&run(&["core", exe, s(&core)]), 1);
    assert!(line.contains(exe) || line.contains(s(&core)), "{line}");
}

#[test]
fn missing_command_file_exits_1_naming_it() {
    let f = Files::new();
    let script = f.missing("cmds.txt");
    let exe = f.garbage("app");
    let core = f.garbage("core");
    let line = one_error_line(&run(&["-x", s(&script), "core", s(&exe), s(&core)]), 1);
    assert!(line.contains(s(&script)), "{line}");
    assert!(line.contains("command file"), "{line}");
}

#[test]
fn help_markdown_prints_the_command_reference() {
    let out = run(&["help-markdown"]);
    assert_eq!(out.status.code(), Some(0));
    let md = text(&out.stdout);
    assert!(md.starts_with("# goheap commands\n"), "{md}");
    assert!(md.contains("### spans"));
}

#[test]
fn closed_stdout_exits_quietly() {
    for args in [&["help-markdown"][..], &["--help"]] {
        let mut child = goheap()
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        drop(child.stdout.take());
        let mut stderr = String::new();
        child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut stderr)
            .unwrap();
        let status = child.wait().unwrap();
        assert_eq!(status.code(), Some(0), "{args:?}: {stderr}");
        assert_eq!(stderr, "", "{args:?}");
    }
}
