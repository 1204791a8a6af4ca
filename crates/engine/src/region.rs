//! A region of operation: a polygon of geodesic edges on the WGS84
//! ellipsoid, validated as a volume's outline is, and whether a volume or a
//! point lies inside it.
//!
//! # Definition
//!
//! A volume is *within* a region when every point of its footprint lies
//! inside the region's polygon, away from its boundary: a volume touching
//! the boundary reaches outside. Both are compared in the plane between
//! their centres (`geodesy::LocalPlane`), a circle as the 72-gon drawn
//! around it; a distance there may be off by (extent / earth radius)² of
//! itself (about 1 m at 100 km from the boundary, 500 km from the centre).
//! That is exact enough for what a region is for, a warning that a notice is
//! probably a mistake; it decides no conflict.
//!
//! ```
//! use parley_engine::{LatLng, Region, Limits};
//! let r = Region::polygon(&[LatLng::new(30.0, 35.0), LatLng::new(30.0, 42.0),
//!     LatLng::new(38.0, 42.0), LatLng::new(38.0, 35.0)]).unwrap();
//! assert!(r.holds(LatLng::new(35.5, 38.5)));
//! assert!(!r.holds(LatLng::new(38.5, 35.5)));
//! ```

use crate::footprint::Footprint;
use crate::geodesy::LatLng;
use crate::volume::{Limits, Volume, VolumeError};

/// A region of operation (see the module's definition).
#[derive(Clone, Debug)]
pub struct Region {
    footprint: Footprint,
}

/// Regions may be larger than a volume: up to 2,000 km from their centre
/// (where `LocalPlane` stays exact enough) and 1,000 vertices.
fn region_limits() -> Limits {
    Limits {
        max_area_m2: 2.0e13,
        ..Limits::default()
    }
}

impl Region {
    /// The region bounded by `vertices` (not repeating the first), with the
    /// checks of a volume's polygon: each error names the vertex and says
    /// what to give instead.
    pub fn polygon(vertices: &[LatLng]) -> Result<Region, VolumeError> {
        Ok(Region {
            footprint: Footprint::polygon(vertices, &region_limits())?,
        })
    }

    /// Whether every point of `volume`'s footprint lies inside the region.
    pub fn contains(&self, volume: &Volume) -> bool {
        volume.footprint.within(&self.footprint)
    }

    /// Whether `p` lies inside the region or on its boundary.
    pub fn holds(&self, p: LatLng) -> bool {
        self.footprint.holds(p)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{AltitudeBand, Outline, TimeWindow, Timestamp, VolumeInput};

    fn volume(outline: Outline) -> Volume {
        Volume::new(
            VolumeInput {
                outline,
                altitude: AltitudeBand {
                    lower_m: 0.0,
                    upper_m: 100.0,
                },
                window: TimeWindow {
                    start: Timestamp(0),
                    end: Timestamp(1),
                },
            },
            &Limits::default(),
        )
        .unwrap()
    }

    /// A concave region: an L of 1° arms around (35, 38).
    fn ell() -> Region {
        Region::polygon(&[
            LatLng::new(35.0, 38.0),
            LatLng::new(35.0, 40.0),
            LatLng::new(36.0, 40.0),
            LatLng::new(36.0, 39.0),
            LatLng::new(37.0, 39.0),
            LatLng::new(37.0, 38.0),
        ])
        .unwrap()
    }

    #[test]
    fn a_volume_is_within_when_all_of_it_is_inside() {
        let r = ell();
        let circle = |lat, lng, radius_m| {
            volume(Outline::Circle {
                center: LatLng::new(lat, lng),
                radius_m,
            })
        };
        assert!(r.contains(&circle(35.5, 38.5, 10_000.0)));
        // In the L's notch: inside its box, outside the region.
        assert!(!r.contains(&circle(36.5, 39.5, 1_000.0)));
        // Inside by its centre, reaching over the edge at 38°E (about 45.3 km west).
        assert!(!r.contains(&circle(35.5, 38.5, 46_000.0)));
        assert!(r.contains(&circle(35.5, 38.5, 44_500.0)));
        let square = |lat: f64, lng: f64, d: f64| {
            volume(Outline::Polygon(vec![
                LatLng::new(lat, lng),
                LatLng::new(lat, lng + d),
                LatLng::new(lat + d, lng + d),
                LatLng::new(lat + d, lng),
            ]))
        };
        assert!(r.contains(&square(35.1, 38.1, 0.5)));
        // Across the notch's corner.
        assert!(!r.contains(&square(35.8, 38.8, 0.4)));
        // Sharing the region's edge: touching reaches outside.
        assert!(!r.contains(&square(35.0, 38.2, 0.2)));
        // Far away, the other side of the globe.
        assert!(!r.contains(&square(-35.5, -141.5, 0.2)));
    }

    #[test]
    fn a_point_is_held_inside_or_on_the_boundary() {
        let r = ell();
        assert!(r.holds(LatLng::new(36.5, 38.5)));
        assert!(!r.holds(LatLng::new(36.5, 39.5)), "the notch");
        assert!(!r.holds(LatLng::new(-35.5, -141.5)));
        assert!(!r.holds(LatLng::new(38.5, 35.5)), "swapped");
    }

    #[test]
    fn a_region_is_refused_as_an_outline_would_be() {
        let e = Region::polygon(&[LatLng::new(35.0, 38.0), LatLng::new(35.0, 40.0)]).unwrap_err();
        assert!(e.to_string().contains("3"), "{e}");
        let bow = Region::polygon(&[
            LatLng::new(35.0, 38.0),
            LatLng::new(36.0, 39.0),
            LatLng::new(35.0, 39.0),
            LatLng::new(36.0, 38.0),
        ]);
        assert!(bow.is_err());
    }
}
