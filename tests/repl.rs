//! REPL tests.
//!
//! Golden sessions: every `tests/repl/NAME.in` is piped into `tdsl repl` (run from
//! the repository root, so `:load programs/...` works), and its standard output
//! and standard error, merged in the order they were written, plus a final
//! `[exit N]` line, are compared with `tests/repl/NAME.out`: the text exactly,
//! printed numbers within the golden tolerance (`support::text_matches`).
//! A first line `// args: ...` in the `.in` file gives extra arguments
//! (e.g. `// args: programs/two_layer_fc.td`).
//!
//! Re-bless after an intended change with:
//!     UPDATE_GOLDEN=1 cargo test --test repl
//! and review the diff of `tests/repl/*.out` before committing.

mod support;

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn sessions() -> Vec<PathBuf> {
    let dir = root().join("tests/repl");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("tests/repl/ exists")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "in"))
        .collect();
    files.sort();
    files
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("tdsl-repl-test-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create a temporary folder");
    dir
}

/// Runs `tdsl repl ARGS` with `input` on stdin; stdout and stderr go to one file,
/// so the transcript keeps their order. Returns the transcript and the exit status.
fn run_session(input: &Path, args: &[String], scratch: &Path) -> (String, i32) {
    let transcript = scratch.join("transcript.txt");
    let out = File::create(&transcript).expect("create the transcript");
    let err = out.try_clone().expect("clone the transcript handle");
    let status = Command::new(env!("CARGO_BIN_EXE_tdsl"))
        .arg("repl")
        .args(args)
        .current_dir(root())
        .stdin(File::open(input).expect("open the session input"))
        .stdout(Stdio::from(out))
        .stderr(Stdio::from(err))
        .status()
        .expect("the tdsl binary runs");
    let text = std::fs::read_to_string(&transcript).expect("read the transcript");
    (text, status.code().unwrap_or(-1))
}

#[test]
fn every_session_matches_its_golden_transcript() {
    let update = std::env::var_os("UPDATE_GOLDEN").is_some();
    let files = sessions();
    assert!(files.len() >= 5, "expected the sessions in tests/repl/");
    let mut failures = Vec::new();
    for path in &files {
        let input = std::fs::read_to_string(path).expect("read the session");
        let args: Vec<String> = input
            .lines()
            .next()
            .and_then(|l| l.strip_prefix("// args:"))
            .map(|a| a.split_whitespace().map(String::from).collect())
            .unwrap_or_default();
        let stem = path
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or("session");
        let scratch = temp_dir(stem);
        let (text, code) = run_session(path, &args, &scratch);
        let _ = std::fs::remove_dir_all(&scratch);
        let actual = format!("{text}[exit {code}]\n");
        let golden = path.with_extension("out");
        if update {
            std::fs::write(&golden, &actual).expect("write golden");
            continue;
        }
        match std::fs::read_to_string(&golden) {
            Ok(expected) => {
                if let Err(why) = support::text_matches(&expected, &actual) {
                    failures.push(format!(
                        "{}: transcript differs from {}\n{why}",
                        path.display(),
                        golden.display()
                    ));
                }
            }
            Err(_) => failures.push(format!(
                "{}: no golden file {} (run with UPDATE_GOLDEN=1)",
                path.display(),
                golden.display()
            )),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// The terminal mode, driven through a pseudo-terminal: completion, `..> `
/// continuation lines, Ctrl-C, Ctrl-D and the history file.
#[cfg(target_os = "linux")]
mod terminal {
    use super::*;
    use std::io::{Read, Write};
    use std::os::unix::process::CommandExt;
    use std::sync::mpsc::{channel, Receiver};
    use std::time::{Duration, Instant};

    struct Pty {
        master: File,
        output: Receiver<Vec<u8>>,
        seen: String,
        cursor: usize,
    }

    impl Pty {
        fn send(&mut self, text: &str) {
            self.master
                .write_all(text.as_bytes())
                .expect("write to the pty");
            self.master.flush().expect("flush the pty");
        }

        /// Waits until `pattern` appears after what was matched before.
        fn expect(&mut self, pattern: &str) {
            let deadline = Instant::now() + Duration::from_secs(30);
            loop {
                if let Some(at) = self.seen[self.cursor..].find(pattern) {
                    self.cursor += at + pattern.len();
                    return;
                }
                let left = deadline.saturating_duration_since(Instant::now());
                match self.output.recv_timeout(left) {
                    Ok(bytes) => self.seen.push_str(&String::from_utf8_lossy(&bytes)),
                    Err(_) => panic!(
                        "timed out waiting for {pattern:?}; the terminal shows:\n{}",
                        self.seen
                    ),
                }
            }
        }
    }

    /// Starts `tdsl repl` on a new pseudo-terminal, as its controlling terminal
    /// (so that Ctrl-C outside the line editor is a SIGINT), with `home` as `$HOME`.
    /// `None` where no pseudo-terminal can be had (the test is then skipped).
    fn spawn(home: &Path) -> Option<(Pty, std::process::Child)> {
        let (master, slave) = super::support::open_pty(120)?;
        let mut command = Command::new(env!("CARGO_BIN_EXE_tdsl"));
        command
            .arg("repl")
            .current_dir(root())
            .env("TERM", "xterm")
            .env("HOME", home)
            .env("XDG_DATA_HOME", home.join("data"))
            .stdin(Stdio::from(slave.try_clone().expect("dup the pty")))
            .stdout(Stdio::from(slave.try_clone().expect("dup the pty")))
            .stderr(Stdio::from(slave));
        // SAFETY: only async-signal-safe calls between fork and exec.
        unsafe {
            command.pre_exec(|| {
                if libc::setsid() < 0 || libc::ioctl(0, libc::TIOCSCTTY, 0) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let child = command.spawn().expect("the tdsl binary runs");
        let (tx, rx) = channel();
        let mut reader = master.try_clone().expect("dup the pty master");
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = reader.read(&mut buf) {
                if n == 0 || tx.send(buf[..n].to_vec()).is_err() {
                    break;
                }
            }
        });
        let pty = Pty {
            master,
            output: rx,
            seen: String::new(),
            cursor: 0,
        };
        Some((pty, child))
    }

    /// Sends Ctrl-D and waits for a clean exit.
    fn leave(pty: &mut Pty, child: &mut std::process::Child) {
        pty.send("\x04");
        let deadline = Instant::now() + Duration::from_secs(30);
        let status = loop {
            if let Some(status) = child.try_wait().expect("wait for tdsl") {
                break status;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                panic!("tdsl did not leave on Ctrl-D:\n{}", pty.seen);
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        assert_eq!(status.code(), Some(0), "{}", pty.seen);
    }

    #[test]
    fn completion_multiline_input_ctrl_c_and_history() {
        let home = temp_dir("terminal");
        let Some((mut pty, mut child)) = spawn(&home) else {
            return;
        };
        pty.expect("td> ");
        pty.send("let abc_long = [1.0, 2.0];\r");
        pty.expect("abc_long: f32[2]");
        pty.expect("td> ");
        // Tab completes a graph name.
        pty.send("abc_l\t * 10.0\r");
        pty.expect("_: f32[2] = [10, 20]");
        pty.expect("td> ");
        // A command name.
        pty.send(":ty\t abc_long\r");
        pty.expect("abc_long: f32[2]");
        pty.expect("td> ");
        // A built-in function, and an input over two lines.
        pty.send("resh\t(abc_long,\r");
        pty.expect("..> ");
        pty.send("[2, 1])\r");
        pty.expect("_: f32[2, 1] = [[1], [2]]");
        pty.expect("td> ");
        // Ctrl-C drops a half-typed multi-line input.
        pty.send("sum(abc_long,\r");
        pty.expect("..> ");
        pty.send("\x03");
        pty.expect("td> ");
        pty.send("sum(abc_long)\r");
        pty.expect("_: f32[] = 3");
        pty.expect("td> ");
        // Ctrl-D leaves.
        leave(&mut pty, &mut child);
        assert!(!pty.seen.contains("error"), "{}", pty.seen);
        let history = std::fs::read_to_string(home.join("data/tdsl/history"))
            .expect("the history file is written");
        assert!(history.contains("let abc_long = [1.0, 2.0];"), "{history}");
        assert!(history.contains("sum(abc_long)"), "{history}");
        let _ = std::fs::remove_dir_all(&home);
    }

    #[test]
    fn ctrl_c_stops_a_long_run_between_steps() {
        let home = temp_dir("interrupt");
        let Some((mut pty, mut child)) = spawn(&home) else {
            return;
        };
        pty.expect("td> ");
        pty.send("variable c: f32[] = 0.0; let t = assign(c, c + 1.0);\r");
        pty.expect("t: f32[]");
        pty.expect("td> ");
        pty.send("run t repeat 1000000000 every 100;\r");
        pty.expect("[step 100] t: f32[] = 100");
        pty.send("\x03");
        pty.expect("interrupted after step ");
        pty.expect("td> ");
        pty.send("c > 99.0\r");
        pty.expect("_: bool[] = true");
        pty.expect("td> ");
        leave(&mut pty, &mut child);
        let _ = std::fs::remove_dir_all(&home);
    }
}

/// `:time` prints timings, which no golden file can pin: check the line's form.
#[test]
fn time_prints_build_compile_and_run_times() {
    let scratch = temp_dir("time");
    let input = scratch.join("time.in");
    std::fs::write(&input, "let a = [1.0, 2.0];\n:time a * 3.0\n").expect("write the input");
    let (text, code) = run_session(&input, &[], &scratch);
    let _ = std::fs::remove_dir_all(&scratch);
    assert_eq!(code, 0, "{text}");
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("a: f32[2]"));
    assert_eq!(lines.next(), Some("_: f32[2] = [3, 6]"));
    let time = lines.next().unwrap_or_default();
    let parts: Vec<&str> = time.split(' ').collect();
    assert_eq!(parts.len(), 10, "{time}");
    assert_eq!(
        [parts[0], parts[1], parts[3], parts[4], parts[6], parts[7], parts[9]],
        ["time:", "build", "ms,", "compile", "ms,", "run", "ms"],
        "{time}"
    );
    for number in [parts[2], parts[5], parts[8]] {
        assert!(number.parse::<f64>().is_ok_and(|x| x >= 0.0), "{time}");
    }
}
