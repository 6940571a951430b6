use tenfold_host::{Dir, ErrorKind, Op};

fn scratch() -> (tempfile::TempDir, Dir) {
    let scratch = tempfile::tempdir().unwrap();
    let dir = Dir::open(scratch.path().join("data")).unwrap();
    (scratch, dir)
}

fn read_all(dir: &Dir, name: &str) -> Vec<u8> {
    let file = dir.open_file(name).unwrap();
    let mut buf = vec![0; file.len() as usize];
    file.read_exact_at(0, &mut buf).unwrap();
    buf
}

#[test]
fn append_returns_offsets_and_survives_reopen() {
    let (_scratch, dir) = scratch();
    let mut file = dir.create("seg-1").unwrap();
    assert_eq!(file.append(b"hello ").unwrap(), 0);
    assert_eq!(file.append(b"world").unwrap(), 6);
    assert_eq!(file.len(), 11);
    file.sync_data().unwrap();
    drop(file);

    assert_eq!(read_all(&dir, "seg-1"), b"hello world");
    // Appends after a reopen continue at the end.
    let mut file = dir.open_file("seg-1").unwrap();
    assert_eq!(file.append(b"!").unwrap(), 11);
    drop(file);
    assert_eq!(read_all(&dir, "seg-1"), b"hello world!");
}

#[test]
fn read_at_is_positional_and_short_only_at_the_end() {
    let (_scratch, dir) = scratch();
    let mut file = dir.create("f").unwrap();
    file.append(b"0123456789").unwrap();

    let mut buf = [0; 4];
    assert_eq!(file.read_at(3, &mut buf).unwrap(), 4);
    assert_eq!(&buf, b"3456");
    assert_eq!(file.read_at(8, &mut buf).unwrap(), 2);
    assert_eq!(&buf[..2], b"89");
    assert_eq!(file.read_at(10, &mut buf).unwrap(), 0);

    let error = file.read_exact_at(8, &mut buf).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::UnexpectedEof);
    assert_eq!(error.op(), Op::Read);
}

#[test]
fn write_at_overwrites_in_place_and_extends() {
    let (_scratch, dir) = scratch();
    let mut file = dir.create("f").unwrap();
    file.append(b"aaaaaa").unwrap();
    file.write_at(2, b"XY").unwrap();
    file.write_at(5, b"ZZZ").unwrap();
    assert_eq!(file.len(), 8);
    drop(file);
    assert_eq!(read_all(&dir, "f"), b"aaXYaZZZ");
}

#[test]
fn truncate_cuts_the_tail_and_appends_follow_it() {
    let (_scratch, dir) = scratch();
    let mut file = dir.create("f").unwrap();
    file.append(b"keep-this|torn-tail").unwrap();
    file.truncate(9).unwrap();
    file.sync_all().unwrap();
    assert_eq!(file.append(b"|next").unwrap(), 9);
    drop(file);
    assert_eq!(read_all(&dir, "f"), b"keep-this|next");
}

#[test]
fn preallocate_keeps_the_length() {
    let (_scratch, dir) = scratch();
    let mut file = dir.create("f").unwrap();
    file.append(b"abc").unwrap();
    file.preallocate(1 << 20).unwrap();
    assert_eq!(file.len(), 3);
    drop(file);
    assert_eq!(read_all(&dir, "f"), b"abc");
}

#[test]
fn create_refuses_an_existing_file() {
    let (_scratch, dir) = scratch();
    let mut file = dir.create("f").unwrap();
    file.append(b"accepted").unwrap();
    let error = dir.create("f").unwrap_err();
    assert_eq!(error.kind(), ErrorKind::AlreadyExists);
    assert_eq!(error.op(), Op::Create);
    // The refused create left the existing contents alone.
    assert_eq!(read_all(&dir, "f"), b"accepted");
}

#[test]
fn open_of_a_missing_file_names_it() {
    let (_scratch, dir) = scratch();
    let error = dir.open_file("missing.log").unwrap_err();
    assert_eq!(error.kind(), ErrorKind::NotFound);
    assert!(
        error.path().ends_with("data/missing.log"),
        "{}",
        error.path().display()
    );
    let message = error.to_string();
    assert!(message.starts_with("opening "), "{message}");
    assert!(message.contains("missing.log: not found"), "{message}");
}

#[test]
fn names_with_separators_are_refused() {
    let (_scratch, dir) = scratch();
    for name in ["", ".", "..", "../escape", "a/b", "nul\0byte"] {
        let error = dir.create(name).unwrap_err();
        assert_eq!(error.kind(), ErrorKind::InvalidName, "{name:?}");
    }
}

#[test]
fn rename_replaces_and_remove_deletes() {
    let (_scratch, dir) = scratch();
    dir.create("checkpoint.tmp")
        .unwrap()
        .append(b"new")
        .unwrap();
    dir.create("checkpoint").unwrap().append(b"old").unwrap();
    dir.create("other").unwrap();
    assert_eq!(
        dir.list().unwrap(),
        ["checkpoint", "checkpoint.tmp", "other"]
    );

    dir.rename("checkpoint.tmp", "checkpoint").unwrap();
    assert_eq!(dir.list().unwrap(), ["checkpoint", "other"]);
    assert_eq!(read_all(&dir, "checkpoint"), b"new");

    dir.remove("other").unwrap();
    assert_eq!(dir.list().unwrap(), ["checkpoint"]);
    assert_eq!(dir.remove("other").unwrap_err().kind(), ErrorKind::NotFound);
}

#[test]
fn reopening_the_directory_sees_everything_created() {
    let scratch = tempfile::tempdir().unwrap();
    let path = scratch.path().join("nested/data");
    {
        let dir = Dir::open(&path).unwrap();
        let mut file = dir.create("a").unwrap();
        file.append(b"1").unwrap();
        file.sync_data().unwrap();
        dir.create("b").unwrap();
    }
    let dir = Dir::open(&path).unwrap();
    assert_eq!(dir.list().unwrap(), ["a", "b"]);
    assert_eq!(read_all(&dir, "a"), b"1");
}

/// `/dev/full` answers every write with ENOSPC, which is how a full disk looks to a writer.
#[test]
fn full_disk_is_an_error_not_a_panic() {
    let dir = Dir::open("/dev").unwrap();
    let mut file = dir.open_file("full").unwrap();
    let error = file.append(b"does not fit").unwrap_err();
    assert_eq!(error.kind(), ErrorKind::NoSpace);
    assert_eq!(error.op(), Op::Write);
    assert_eq!(file.len(), 0);
}
