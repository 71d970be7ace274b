//! Writing one compiled case: its files into a directory, complete or not
//! at all (a staging directory renamed into place), and its `.fz_hash`
//! text, either into the directory (`fzc`) or back to the caller (`fzr`,
//! whose calculator must not find it in its working directory: the run
//! writes it when the case lands in the results). This module does not
//! evaluate formulas nor name cases (`compile.rs`), and never decides
//! what the hash text means (`cache::hashfile`).

use super::compile::{CompiledFile, StaticEntry};
use crate::cache::hashfile::{self, HashLine, HASH_FILE};
use crate::error::{Error, Result};
use crate::fsutil::{copy_preserving, rename_noreplace, write_with_mode};
use crate::template::input::InputSet;
use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};

/// Where a compiled case's `.fz_hash` text goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HashOut {
    /// Into the case directory: the compiled case is the result (`fzc`).
    File,
    /// Back to the caller only: the case directory holds the input files
    /// alone while a calculator runs in it, as with funz-fz, and the run
    /// writes the text when the case lands in the results (`fzr`).
    Memory,
}

/// One written case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompiledCase {
    /// Its directory.
    pub dir: PathBuf,
    /// Its `.fz_hash` text under [`HashOut::Memory`]; `None` when it was
    /// written into `dir`.
    pub hash: Option<String>,
}

/// Writes compiled cases into their directories, complete or not at all.
pub struct CaseWriter<'a> {
    input: &'a InputSet,
    statics: &'a [StaticEntry],
    hash_out: HashOut,
    binary_md5: HashMap<usize, String>,
}

impl<'a> CaseWriter<'a> {
    /// A writer for cases of `input`, linking `statics` into each, sending
    /// each case's `.fz_hash` text to `hash_out`.
    pub fn new(input: &'a InputSet, statics: &'a [StaticEntry], hash_out: HashOut) -> Self {
        CaseWriter {
            input,
            statics,
            hash_out,
            binary_md5: HashMap::new(),
        }
    }

    /// Writes case `index` into `output_dir/name` (or `output_dir` itself
    /// when `name` is empty) through a staging directory renamed into place.
    pub fn write(
        &mut self,
        files: Vec<CompiledFile>,
        name: &str,
        index: usize,
        output_dir: &Path,
    ) -> Result<CompiledCase> {
        let final_dir = output_dir.join(name);
        if name.is_empty() {
            let hash = self.write_files(files, output_dir)?;
            return Ok(CompiledCase {
                dir: final_dir,
                hash,
            });
        }
        let staging = output_dir.join(format!(".fz-staging-{index}"));
        if let Err(e) = fs::create_dir(&staging) {
            // A leftover from an interrupted compile into this directory.
            if e.kind() != std::io::ErrorKind::AlreadyExists {
                return Err(Error::io(&staging, e));
            }
            fs::remove_dir_all(&staging).map_err(|e| Error::io(&staging, e))?;
            fs::create_dir(&staging).map_err(|e| Error::io(&staging, e))?;
        }
        let written = self.write_files(files, &staging).and_then(|hash| {
            rename_noreplace(&staging, &final_dir).map_err(|e| {
                if e.kind() == std::io::ErrorKind::AlreadyExists {
                    Error::Value(format!(
                        "case directory {} already exists (two cases with the same name)",
                        final_dir.display()
                    ))
                } else {
                    Error::io(&final_dir, e)
                }
            })?;
            Ok(hash)
        });
        match written {
            Ok(hash) => Ok(CompiledCase {
                dir: final_dir,
                hash,
            }),
            Err(e) => {
                let _ = fs::remove_dir_all(&staging);
                Err(e)
            }
        }
    }

    /// Writes the files of one case into `dir`; its `.fz_hash` text too
    /// under [`HashOut::File`], returned otherwise.
    fn write_files(&mut self, files: Vec<CompiledFile>, dir: &Path) -> Result<Option<String>> {
        let mut lines = Vec::with_capacity(files.len());
        for compiled in files {
            lines.push(self.write_file(compiled, dir)?);
        }
        let mut static_lines = Vec::with_capacity(self.statics.len());
        for s in self.statics {
            if !s.is_absolute {
                link_static(&s.source, &dir.join(&s.name))?;
            }
            static_lines.push(HashLine {
                md5: s.md5.clone(),
                path: s.name.clone(),
            });
        }
        let text = hashfile::render(&static_lines, &lines);
        match self.hash_out {
            HashOut::Memory => Ok(Some(text)),
            HashOut::File => {
                let hash_path = dir.join(HASH_FILE);
                fs::write(&hash_path, text).map_err(|e| Error::io(&hash_path, e))?;
                Ok(None)
            }
        }
    }

    /// Writes one compiled file into `dir`; its hash line.
    fn write_file(&mut self, compiled: CompiledFile, dir: &Path) -> Result<HashLine> {
        let index = match &compiled {
            CompiledFile::Text { index, .. } | CompiledFile::Binary { index } => *index,
        };
        let Some(file) = self.input.files.get(index) else {
            return Err(Error::Value("internal: file index out of range".into()));
        };
        let dst = dir.join(&file.rel);
        if file.rel.contains('/') {
            if let Some(parent) = dst.parent() {
                fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
            }
        }
        let md5 = match compiled {
            CompiledFile::Text { text, .. } => {
                write_with_mode(&dst, text.as_bytes(), file.mode)?;
                hashfile::md5_hex(text.as_bytes())
            }
            CompiledFile::Binary { .. } => {
                copy_preserving(&file.abs, &dst)?;
                match self.binary_md5.get(&index) {
                    Some(m) => m.clone(),
                    None => {
                        let m = hashfile::md5_file(&file.abs)?;
                        self.binary_md5.insert(index, m.clone());
                        m
                    }
                }
            }
        };
        Ok(HashLine {
            md5,
            path: file.rel.clone(),
        })
    }
}

fn link_static(source: &Path, link: &Path) -> Result<()> {
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink(source, link).map_err(|e| Error::io(link, e))
    }
    #[cfg(not(unix))]
    {
        copy_preserving(source, link)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::testutil::names;
    use crate::template::input::{FileContent, InputFile};

    /// An input of one text file `in.txt` and one static entry `data.bin`.
    fn input(root: &Path) -> (InputSet, Vec<StaticEntry>) {
        let src = root.join("src");
        fs::create_dir_all(&src).unwrap();
        fs::write(src.join("in.txt"), "x=$x\n").unwrap();
        fs::write(src.join("data.bin"), b"\x00\x01").unwrap();
        let set = InputSet {
            root: src.join("in.txt"),
            is_dir: false,
            files: vec![InputFile {
                rel: "in.txt".into(),
                abs: src.join("in.txt"),
                mode: None,
                content: FileContent::Binary,
            }],
        };
        let statics = vec![StaticEntry {
            name: "data.bin".into(),
            source: src.join("data.bin"),
            is_absolute: false,
            md5: hashfile::md5_hex(b"\x00\x01"),
        }];
        (set, statics)
    }

    fn compiled() -> Vec<CompiledFile> {
        vec![CompiledFile::Text {
            index: 0,
            text: "x=1\n".into(),
        }]
    }

    #[test]
    fn memory_keeps_the_hash_out_of_the_case_and_returns_what_file_writes() {
        let d = tempfile::tempdir().unwrap();
        let (set, statics) = input(d.path());
        let (fzc_out, fzr_work) = (d.path().join("fzc"), d.path().join("work"));
        fs::create_dir_all(&fzc_out).unwrap();
        fs::create_dir_all(&fzr_work).unwrap();

        let written = CaseWriter::new(&set, &statics, HashOut::File)
            .write(compiled(), "x=1", 0, &fzc_out)
            .unwrap();
        assert_eq!(written.hash, None);
        assert_eq!(names(&written.dir), [".fz_hash", "data.bin", "in.txt"]);
        let on_disk = fs::read_to_string(written.dir.join(HASH_FILE)).unwrap();

        let kept = CaseWriter::new(&set, &statics, HashOut::Memory)
            .write(compiled(), "x=1", 0, &fzr_work)
            .unwrap();
        assert_eq!(kept.dir, fzr_work.join("x=1"));
        // The calculator's directory: the input files alone.
        assert_eq!(names(&kept.dir), ["data.bin", "in.txt"]);
        assert_eq!(names(&fzr_work), ["x=1"]);
        assert_eq!(kept.hash.as_deref(), Some(on_disk.as_str()));
        assert_eq!(
            on_disk,
            format!(
                "{}  data.bin\n{}  in.txt\n",
                hashfile::md5_hex(b"\x00\x01"),
                hashfile::md5_hex(b"x=1\n")
            )
        );
    }

    #[test]
    fn the_unnamed_case_is_written_in_place_with_or_without_its_hash() {
        let d = tempfile::tempdir().unwrap();
        let (set, statics) = input(d.path());
        let (work, out) = (d.path().join("work"), d.path().join("out"));
        fs::create_dir_all(&work).unwrap();
        fs::create_dir_all(&out).unwrap();
        let kept = CaseWriter::new(&set, &statics, HashOut::Memory)
            .write(compiled(), "", 0, &work)
            .unwrap();
        assert_eq!(names(&work), ["data.bin", "in.txt"]);
        CaseWriter::new(&set, &statics, HashOut::File)
            .write(compiled(), "", 0, &out)
            .unwrap();
        assert_eq!(names(&out), [".fz_hash", "data.bin", "in.txt"]);
        assert_eq!(
            kept.hash.unwrap(),
            fs::read_to_string(out.join(HASH_FILE)).unwrap()
        );
    }
}
