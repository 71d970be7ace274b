//! Loading an input path (one file or a directory tree) as templates and
//! binary files, each read once.
//!
//! A file is a template if it is valid UTF-8, otherwise it is binary and is
//! only ever copied. Files are listed by byte order of their `/`-separated
//! relative path so every run sees the same order. Symbolic links to files
//! are followed; links to directories are not (no cycles).

use super::parse::{parse, Template};
use crate::error::{Error, Result};
use crate::fsutil::mode_of;
use crate::model::Syntax;
use std::collections::HashSet;
use std::fs;
use std::path::{Path, PathBuf};

/// What a file holds.
#[derive(Debug)]
pub enum FileContent {
    /// A text file, parsed.
    Template(Template),
    /// Not UTF-8: copied byte for byte.
    Binary,
}

/// One input file.
#[derive(Debug)]
pub struct InputFile {
    /// Path relative to the input root, `/`-separated (for a single-file
    /// input, its file name).
    pub rel: String,
    /// Absolute source path.
    pub abs: PathBuf,
    /// Unix permission bits of the source.
    pub mode: Option<u32>,
    /// Its content.
    pub content: FileContent,
}

/// The files of an input path.
#[derive(Debug)]
pub struct InputSet {
    /// The input path, absolute.
    pub root: PathBuf,
    /// Whether the input is a directory.
    pub is_dir: bool,
    /// The files, sorted by relative path.
    pub files: Vec<InputFile>,
}

impl InputSet {
    /// The parsed templates with their relative paths.
    pub fn templates(&self) -> impl Iterator<Item = (&InputFile, &Template)> {
        self.files.iter().filter_map(|f| match &f.content {
            FileContent::Template(t) => Some((f, t)),
            FileContent::Binary => None,
        })
    }
}

/// Loads `path` (absolute), skipping files in `exclude` (absolute,
/// canonical paths of `input_static` entries).
pub fn load(path: &Path, syntax: &Syntax, exclude: &HashSet<PathBuf>) -> Result<InputSet> {
    let meta = fs::metadata(path)
        .map_err(|_| Error::NotFound(format!("Input path '{}' not found", path.display())))?;
    if !meta.is_dir() && !meta.is_file() {
        // A FIFO or device would block the read (or never end).
        return Err(Error::Value(format!(
            "Input path '{}' is not a regular file or a directory (a FIFO, socket or device)",
            path.display()
        )));
    }
    let mut files = Vec::new();
    if meta.is_dir() {
        let mut found = Vec::new();
        walk(path, path, &mut found)?;
        found.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
        for (rel, abs) in found {
            if is_excluded(&abs, exclude) {
                continue;
            }
            files.push(read_file(rel, abs, syntax)?);
        }
    } else {
        let rel = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        files.push(read_file(rel, path.to_path_buf(), syntax)?);
    }
    Ok(InputSet {
        root: path.to_path_buf(),
        is_dir: meta.is_dir(),
        files,
    })
}

fn is_excluded(abs: &Path, exclude: &HashSet<PathBuf>) -> bool {
    !exclude.is_empty() && fs::canonicalize(abs).is_ok_and(|c| exclude.contains(&c))
}

fn walk(root: &Path, dir: &Path, out: &mut Vec<(String, PathBuf)>) -> Result<()> {
    let entries = fs::read_dir(dir).map_err(|e| Error::io(dir, e))?;
    for entry in entries {
        let entry = entry.map_err(|e| Error::io(dir, e))?;
        let path = entry.path();
        let file_type = entry.file_type().map_err(|e| Error::io(&path, e))?;
        if file_type.is_dir() {
            walk(root, &path, out)?;
        } else if file_type.is_file() || (file_type.is_symlink() && path.is_file()) {
            let rel = path
                .strip_prefix(root)
                .unwrap_or(&path)
                .components()
                .map(|c| c.as_os_str().to_string_lossy())
                .collect::<Vec<_>>()
                .join("/");
            out.push((rel, path));
        }
    }
    Ok(())
}

fn read_file(rel: String, abs: PathBuf, syntax: &Syntax) -> Result<InputFile> {
    let bytes = fs::read(&abs).map_err(|e| Error::io(&abs, e))?;
    let mode = fs::metadata(&abs).ok().as_ref().and_then(mode_of);
    let content = match String::from_utf8(bytes) {
        Ok(text) => FileContent::Template(parse(text, syntax)),
        Err(_) => FileContent::Binary,
    };
    Ok(InputFile {
        rel,
        abs,
        mode,
        content,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn directory_inputs_are_sorted_and_binary_detected() {
        let d = tempfile::tempdir().unwrap();
        fs::create_dir_all(d.path().join("sub/deeper")).unwrap();
        fs::create_dir_all(d.path().join("empty")).unwrap();
        fs::write(d.path().join("main.txt"), "x=$x").unwrap();
        fs::write(d.path().join(".hidden"), "h").unwrap();
        fs::write(d.path().join("bin.dat"), [0xff, 0xfe, b'$', b'x']).unwrap();
        fs::write(d.path().join("sub/deeper/deep.txt"), "d").unwrap();
        let set = load(d.path(), &Syntax::default(), &HashSet::new()).unwrap();
        let rels: Vec<&str> = set.files.iter().map(|f| f.rel.as_str()).collect();
        assert_eq!(
            rels,
            [".hidden", "bin.dat", "main.txt", "sub/deeper/deep.txt"]
        );
        assert!(matches!(set.files[1].content, FileContent::Binary));
        assert_eq!(set.templates().count(), 3);
        let single = load(
            &d.path().join("bin.dat"),
            &Syntax::default(),
            &HashSet::new(),
        )
        .unwrap();
        assert!(
            matches!(single.files[0].content, FileContent::Binary),
            "a single binary file is fine"
        );
        let err = load(&d.path().join("nope"), &Syntax::default(), &HashSet::new()).unwrap_err();
        assert!(err.to_string().starts_with("Input path '"));
    }
}
