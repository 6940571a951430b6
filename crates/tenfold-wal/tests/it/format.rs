//! The bytes on disk, exactly as the crate docs describe them.

use tenfold_wal::{
    AppendError, Config, Io, Log, Lsn, RecordInfo, SegmentEnd, framed_len, inspect_segment,
};

use crate::writes;

#[test]
fn records_are_framed_to_eight_bytes() {
    assert_eq!(framed_len(0), 32);
    assert_eq!(framed_len(1), 40);
    assert_eq!(framed_len(8), 40);
    assert_eq!(framed_len(9), 48);
    assert_eq!(framed_len(4096), 4128);
}

#[test]
fn a_first_flush_has_the_documented_bytes() {
    let mut log = Log::new(Config::default().preallocate(false), 0);
    log.append(0x0102, b"hello").unwrap();
    let flush = log.poll_flush().unwrap();
    assert_eq!(flush.through, Lsn::new(1));
    let Io::Create {
        segment: 1,
        header,
        preallocate: 0,
    } = &flush.ops[0]
    else {
        panic!("the first op creates segment 1: {:?}", flush.ops[0]);
    };
    assert_eq!(&header[0..8], b"TFWALSEG");
    assert_eq!(&header[8..16], &[1, 0, 0, 0, 0, 0, 0, 0]);
    assert_eq!(&header[16..24], &1u64.to_le_bytes());
    assert_eq!(&header[24..32], &1u64.to_le_bytes());
    let salt = u64::from_le_bytes(header[32..40].try_into().unwrap());
    assert_eq!(&header[40..44], &[0; 4]);
    assert_eq!(
        &header[44..48],
        &crc32fast::hash(&header[..44]).to_le_bytes()
    );

    let writes: [(u64, u64, Vec<u8>); 1] = writes(&flush).try_into().unwrap();
    let [(1, 48, record)] = writes else {
        panic!("one write at offset 48: {:?}", flush.ops);
    };
    assert_eq!(record.len(), 40);
    assert_eq!(&record[4..8], &5u32.to_le_bytes());
    assert_eq!(&record[8..16], &1u64.to_le_bytes());
    assert_eq!(&record[16..24], &0x0102u64.to_le_bytes());
    // Data kind, end of batch, two zero bytes, and a durable lag of 1 (nothing was durable).
    assert_eq!(&record[24..32], &[1, 1, 0, 0, 1, 0, 0, 0]);
    assert_eq!(&record[32..40], b"hello\0\0\0");
    let mut hasher = crc32fast::Hasher::new_with_initial((salt ^ (salt >> 32)) as u32);
    hasher.update(&record[4..37]);
    assert_eq!(&record[0..4], &hasher.finalize().to_le_bytes());
    assert_eq!(flush.ops[2], Io::Sync { segment: 1 });
}

#[test]
fn inspect_lists_committed_records() {
    let mut log = Log::new(Config::default().preallocate(false), 3);
    log.append(10, b"a").unwrap();
    log.append(20, &[7; 20]).unwrap();
    let flush = log.poll_flush().unwrap();
    let Io::Create { header, .. } = &flush.ops[0] else {
        panic!("create first")
    };
    let mut bytes = header.clone();
    bytes.extend(writes(&flush).remove(0).2);
    let report = inspect_segment(&bytes, &Config::default()).unwrap();
    assert_eq!(report.header.first_lsn, Lsn::new(1));
    assert_eq!(
        report.records,
        [
            RecordInfo {
                lsn: Lsn::new(1),
                timestamp: 10,
                offset: 48,
                len: 1
            },
            RecordInfo {
                lsn: Lsn::new(2),
                timestamp: 20,
                offset: 88,
                len: 20
            },
        ]
    );
    assert_eq!(report.committed_len, 144);
    assert_eq!(report.end, SegmentEnd::Clean);
}

#[test]
fn oversized_appends_are_refused_and_change_nothing() {
    let mut log = Log::new(Config::default().max_record_len(16), 0);
    let error = log.append(1, &[0; 17]).unwrap_err();
    assert_eq!(error, AppendError::TooLarge { len: 17, max: 16 });
    assert_eq!(
        error.to_string(),
        "record of 17 bytes is over the maximum of 16"
    );
    assert_eq!(log.next_lsn(), Lsn::new(1));
    assert!(log.poll_flush().is_none());
    assert_eq!(log.append(1, &[0; 16]).unwrap(), Lsn::new(1));
}

#[test]
fn timestamps_never_go_backwards_in_the_log() {
    let mut log = Log::new(Config::default().preallocate(false), 0);
    log.append(500, b"a").unwrap();
    log.append(400, b"b").unwrap();
    let flush = log.poll_flush().unwrap();
    let Io::Create { header, .. } = &flush.ops[0] else {
        panic!("create first")
    };
    let mut bytes = header.clone();
    bytes.extend(writes(&flush).remove(0).2);
    let report = inspect_segment(&bytes, &Config::default()).unwrap();
    let stamps: Vec<u64> = report.records.iter().map(|r| r.timestamp).collect();
    assert_eq!(stamps, [500, 500]);
}
