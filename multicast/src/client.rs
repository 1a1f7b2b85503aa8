//! Client side placeholder (filled below).
