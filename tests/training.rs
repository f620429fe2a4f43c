//! Training through the CLI: `--save` then `--feed` of every saved variable
//! (including the optimiser's slot variables) resumes training exactly.

use std::path::{Path, PathBuf};
use std::process::Command;
use tdsl::ir::npy::read_npy;

const PROGRAM: &str = "\
placeholder x: f32[16, 3] = randn(seed=1);
placeholder y: f32[16, 1] = randn(seed=2);
variable w: f32[3, 1] = xavier(seed=3);
variable b: f32[1] = 0.0;
let loss = mean_squared_error(tanh(x @ w + b), y);
let train = minimize(loss, adam(0.05));
";

fn workdir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("tdsl-training-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    std::fs::write(dir.join("p.td"), PROGRAM).expect("write program");
    dir
}

fn tdsl(dir: &Path, args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_tdsl"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("tdsl runs");
    assert!(
        out.status.success(),
        "tdsl {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn save_then_feed_resumes_adam_exactly() {
    let dir = workdir("resume");
    // Four steps in one go.
    tdsl(
        &dir,
        &[
            "run", "p.td", "--fetch", "train", "--steps", "4", "--save", "straight",
        ],
    );
    // Two steps, save, then two more from the saved state.
    tdsl(
        &dir,
        &[
            "run", "p.td", "--fetch", "train", "--steps", "2", "--save", "half",
        ],
    );
    let mut saved: Vec<String> = std::fs::read_dir(dir.join("half"))
        .expect("saved folder")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".npy"))
        .collect();
    saved.sort();
    assert!(
        saved.len() > 2,
        "Adam's slot variables are saved too, not only w and b: {saved:?}"
    );
    let mut args: Vec<String> = ["run", "p.td", "--fetch", "train", "--steps", "2"]
        .map(String::from)
        .to_vec();
    for file in &saved {
        let name = file.trim_end_matches(".npy");
        args.push("--feed".into());
        args.push(format!("{name}=half/{file}"));
    }
    args.extend(["--save".to_string(), "resumed".to_string()]);
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    tdsl(&dir, &refs);
    for file in &saved {
        let straight = read_npy(&dir.join("straight").join(file)).expect("straight");
        let resumed = read_npy(&dir.join("resumed").join(file)).expect("resumed");
        assert_eq!(straight, resumed, "{file} differs after resuming");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
