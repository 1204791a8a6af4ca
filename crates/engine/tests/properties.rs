//! Properties of the conflict predicate and the index, over random volumes that
//! include the antimeridian, high latitudes, long edges, circles and concave shapes.

use parley_engine::*;
use proptest::prelude::*;

const HOUR: i64 = 3_600_000_000;

fn star(lat: f64, lng: f64, radius_m: f64, radii: &[f64], turn: f64) -> Vec<LatLng> {
    let n = radii.len();
    (0..n)
        .map(|k| {
            let a = turn + k as f64 * std::f64::consts::TAU / n as f64;
            let r = radius_m * radii[k];
            let dlat = r * a.cos() / 111_132.0;
            let dlng = r * a.sin() / (111_320.0 * lat.to_radians().cos());
            LatLng::new(lat + dlat, geodesy::normalize_lng(lng + dlng))
        })
        .collect()
}

/// A random valid volume near (lat, lng).
fn volume_near(lat: f64, lng: f64) -> impl Strategy<Value = Volume> {
    (
        -0.3f64..0.3,
        -0.6f64..0.6,
        prop::bool::ANY,
        100.0f64..20_000.0,
        prop::collection::vec(0.3f64..1.0, 3..10),
        0.0f64..std::f64::consts::TAU,
        0i64..6,
        1i64..4,
        0.0f64..5_000.0,
        1.0f64..3_000.0,
    )
        .prop_map(
            move |(dlat, dlng, circle, r, radii, turn, start, hours, lower, thick)| {
                let (clat, clng) = (lat + dlat, geodesy::normalize_lng(lng + dlng));
                let outline = if circle {
                    Outline::Circle {
                        center: LatLng::new(clat, clng),
                        radius_m: r,
                    }
                } else {
                    Outline::Polygon(star(clat, clng, r, &radii, turn))
                };
                Volume::new(
                    VolumeInput {
                        outline,
                        altitude: AltitudeBand {
                            lower_m: lower,
                            upper_m: lower + thick,
                        },
                        window: TimeWindow {
                            start: Timestamp(start * HOUR),
                            end: Timestamp((start + hours) * HOUR),
                        },
                    },
                    &Limits::default(),
                )
                .expect("generated volumes are valid")
            },
        )
}

fn places() -> impl Strategy<Value = (f64, f64)> {
    prop_oneof![
        (-60.0f64..60.0, -179.0f64..179.0),
        Just((0.0, 180.0)),
        Just((-12.0, -179.9)),
        (65.0f64..84.0, -180.0f64..180.0),
        (-84.0f64..-65.0, -180.0f64..180.0),
    ]
}

fn minima() -> impl Strategy<Value = Minima> {
    (
        prop_oneof![Just(0.0), 1.0f64..30_000.0],
        prop_oneof![Just(0.0), 1.0f64..500.0],
        prop_oneof![Just(0.0), 1.0f64..3_600.0],
    )
        .prop_map(|(h, v, t)| Minima {
            horizontal_m: h,
            vertical_m: v,
            time_s: t,
        })
}

fn pair() -> impl Strategy<Value = (Volume, Volume)> {
    places().prop_flat_map(|(lat, lng)| (volume_near(lat, lng), volume_near(lat, lng)))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn symmetric((a, b) in pair(), m in minima()) {
        prop_assert_eq!(conflicts(&a, &b, &m), conflicts(&b, &a, &m));
    }

    #[test]
    fn monotonic_in_the_minima((a, b) in pair(), m in minima(), grow in (0.0f64..5_000.0, 0.0f64..300.0, 0.0f64..900.0)) {
        let bigger = Minima { horizontal_m: m.horizontal_m + grow.0, vertical_m: m.vertical_m + grow.1, time_s: m.time_s + grow.2 };
        if conflicts(&a, &b, &m) {
            prop_assert!(conflicts(&a, &b, &bigger));
        }
    }

    /// A volume rebuilt without validation (`Volume::trusted`, what a
    /// snapshot restores) answers exactly as the validated one.
    #[test]
    fn trusted_volumes_answer_as_validated_ones((a, b) in pair(), m in minima()) {
        let input = VolumeInput { outline: a.outline().clone(), altitude: a.altitude(), window: a.window() };
        let t = Volume::trusted(input);
        prop_assert_eq!(t.bounds(), a.bounds());
        prop_assert_eq!(t.area_m2(), a.area_m2());
        prop_assert_eq!(conflicts(&t, &b, &m), conflicts(&a, &b, &m));
        prop_assert_eq!(meeting(&t, &b, &m), meeting(&a, &b, &m));
        prop_assert_eq!(meeting(&b, &t, &m), meeting(&b, &a, &m));
    }

    #[test]
    fn a_volume_conflicts_with_itself(a in places().prop_flat_map(|(lat, lng)| volume_near(lat, lng))) {
        prop_assert!(conflicts(&a, &a, &Minima::default()));
        let m = meeting(&a, &a, &Minima::default()).expect("meets itself");
        prop_assert_eq!(m.horizontal_distance_m, 0.0);
        prop_assert_eq!((m.start, m.end), (a.window().start, a.window().end));
    }

    #[test]
    fn meetings_agree_with_the_predicate((a, b) in pair(), m in minima()) {
        match meeting(&a, &b, &m) {
            Some(x) => {
                prop_assert!(conflicts(&a, &b, &m));
                prop_assert!(x.horizontal_distance_m < m.horizontal_m || x.horizontal_distance_m == 0.0);
                prop_assert!(x.vertical_gap_m < m.vertical_m || x.vertical_gap_m == 0.0);
                prop_assert!(x.time_gap_s < m.time_s || x.time_gap_s == 0.0);
                prop_assert!(x.start <= x.end && x.altitude_lower_m <= x.altitude_upper_m);
            }
            None => prop_assert!(!conflicts(&a, &b, &m)),
        }
    }

    /// The index finds exactly what comparing against every stored volume finds,
    /// through inserts and removals.
    #[test]
    fn index_agrees_with_brute_force(
        stored in places().prop_flat_map(|(lat, lng)| prop::collection::vec(volume_near(lat, lng), 20..60)),
        seeds in prop::collection::vec(any::<u64>(), 1..4),
        m in minima(),
    ) {
        let mut index = Index::bulk_load(stored.iter().cloned().enumerate());
        let mut present: Vec<bool> = vec![true; stored.len()];
        for (k, s) in seeds.iter().enumerate() {
            let i = (*s as usize) % stored.len();
            if k % 2 == 0 { index.remove(&i); present[i] = false; } else { index.insert(i, stored[i].clone()); present[i] = true; }
        }
        prop_assert_eq!(index.len(), present.iter().filter(|p| **p).count());
        for q in stored.iter().take(15) {
            let mut got = index.conflicts(q, &m);
            got.sort_unstable();
            let want: Vec<usize> = (0..stored.len()).filter(|&i| present[i] && conflicts(q, &stored[i], &m)).collect();
            prop_assert_eq!(got, want);
        }
    }
}

fn square(lat: f64, lng: f64, size: f64) -> Volume {
    Volume::new(
        VolumeInput {
            outline: Outline::Polygon(vec![
                LatLng::new(lat, lng),
                LatLng::new(lat, geodesy::normalize_lng(lng + size)),
                LatLng::new(lat + size, geodesy::normalize_lng(lng + size)),
                LatLng::new(lat + size, lng),
            ]),
            altitude: AltitudeBand {
                lower_m: 0.0,
                upper_m: 1_000.0,
            },
            window: TimeWindow {
                start: Timestamp(0),
                end: Timestamp(HOUR),
            },
        },
        &Limits::default(),
    )
    .unwrap()
}

#[test]
fn index_finds_conflicts_across_the_antimeridian_and_near_the_poles() {
    let none = Minima::default();
    let mut index = Index::new();
    index.insert("east of 180", square(10.0, 179.9, 0.2)); // spans 179.9E .. 179.9W
    index.insert("west of 180", square(10.05, -179.95, 0.05));
    index.insert("polar", square(88.0, 100.0, 1.5));
    index.insert("far", square(-30.0, 0.0, 0.1));
    let mut got = index.conflicts(&square(10.02, -179.99, 0.05), &none);
    got.sort_unstable();
    assert_eq!(got, vec!["east of 180", "west of 180"]);
    assert_eq!(
        index.conflicts(&square(88.5, 100.5, 0.2), &none),
        vec!["polar"]
    );
    // 1 km apart across the antimeridian: only a minimum above that finds it.
    let near = square(10.0, -179.88, 0.05);
    assert!(index
        .conflicts(&near, &none)
        .iter()
        .all(|k| *k != "east of 180"));
    let d = 0.02 * 111_320.0 * 10f64.to_radians().cos();
    let m = Minima {
        horizontal_m: d + 100.0,
        ..none
    };
    assert!(index.conflicts(&near, &m).contains(&"east of 180"));
}

#[test]
fn huge_volumes_are_found_from_fine_ones_and_back() {
    let none = Minima::default();
    let mut index = Index::new();
    index.insert(1, square(30.0, 30.0, 8.0)); // ~800 km: a coarse level
    index.insert(2, square(35.0, 35.0, 0.01)); // ~1 km: the finest level
    assert_eq!(
        index.conflicts(&square(35.0, 35.0, 0.01), &none),
        vec![1, 2]
    );
    assert_eq!(index.conflicts(&square(31.0, 31.0, 6.0), &none), vec![1, 2]);
    assert_eq!(
        index.remove(&1).map(|v| v.window()),
        Some(square(0.0, 0.0, 1.0).window())
    );
    assert_eq!(index.conflicts(&square(31.0, 31.0, 6.0), &none), vec![2]);
}
