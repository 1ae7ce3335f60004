//! cert-manager resources.
