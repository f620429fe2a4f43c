//! End-to-end tests: source text -> parser -> builder.

use crate::ir::module::Module;
use crate::syntax::Diag;
use std::path::Path;

fn build_src(src: &str) -> Result<Module, Vec<Diag>> {
    let program = crate::syntax::parser::parse(src)?;
    super::build(&program, Path::new(env!("CARGO_MANIFEST_DIR")))
}

#[test]
fn scratch_programs() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("programs");
    let mut entries: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for p in entries {
        if p.extension().map_or(true, |e| e != "td") {
            continue;
        }
        let src = std::fs::read_to_string(&p).unwrap();
        match build_src(&src) {
            Ok(m) => {
                println!("== {}", p.display());
                for (n, id) in &m.names {
                    println!("  {n}: {}", m.graph.ty(*id));
                }
            }
            Err(ds) => println!(
                "== {}\n{}",
                p.display(),
                crate::syntax::diag::render_all(&ds, "x.td", &src)
            ),
        }
    }
}

#[test]
fn scratch_errors() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/errors");
    let mut entries: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for p in entries {
        if p.extension().map_or(true, |e| e != "td") {
            continue;
        }
        let src = std::fs::read_to_string(&p).unwrap();
        let r = crate::syntax::parser::parse(&src).and_then(|prog| super::build(&prog, &dir));
        match r {
            Ok(_) => println!("== {} OK", p.display()),
            Err(ds) => println!(
                "== {} ({} diags)\n{}",
                p.file_name().unwrap().to_string_lossy(),
                ds.len(),
                crate::syntax::diag::render_all(&ds, "x.td", &src)
            ),
        }
    }
}
