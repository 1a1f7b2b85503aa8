//! GNUnet configuration, read the way libgnunetutil reads it.
