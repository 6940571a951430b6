//! The opt-in `serde` feature: IDs as numbers or text, leases and reservations as records.

use tenfold_ids::{HighWater, Id64, Lease, Timestamp, Ulid, Uuid};

#[test]
fn ids_serialize_in_their_usual_forms() {
    let id = Id64::from_u64(175_928_847_299_117_063);
    assert_eq!(serde_json::to_string(&id).unwrap(), "175928847299117063");
    let ulid: Ulid = "01ARZ3NDEKTSV4RRFFQ69G5FAV".parse().unwrap();
    let json = serde_json::to_string(&ulid).unwrap();
    assert_eq!(json, "\"01ARZ3NDEKTSV4RRFFQ69G5FAV\"");
    assert_eq!(serde_json::from_str::<Ulid>(&json).unwrap(), ulid);
    let uuid = Uuid::from(ulid);
    let json = serde_json::to_string(&uuid).unwrap();
    assert_eq!(serde_json::from_str::<Uuid>(&json).unwrap(), uuid);
    assert!(serde_json::from_str::<Ulid>("\"80000000000000000000000000\"").is_err());
}

#[test]
fn leases_round_trip() {
    let lease = Lease::new(7, 3, Timestamp::from_unix_ms(1_700_000_000_000));
    let json = serde_json::to_string(&lease).unwrap();
    assert_eq!(serde_json::from_str::<Lease>(&json).unwrap(), lease);
    let mark = HighWater::from_u64(99);
    assert_eq!(serde_json::to_string(&mark).unwrap(), "99");
}
