//! The front end, compiled into the binary from `web/serve/`: plain HTML,
//! CSS and JavaScript, and `wallet.js` — the in-page wallet and record
//! opener, bundled from npm's audited @noble packages by esbuild
//! (`web/wallet/`, reproducible: `node build.js --check`). Nothing is
//! fetched from elsewhere at run time (the machine the console runs on may
//! have no internet, and the Content-Security-Policy allows only the
//! console).

use axum::http::header;
use axum::response::{IntoResponse, Response};

/// A file served as-is: its content type and bytes.
pub struct Asset {
    /// `Content-Type`.
    pub content_type: &'static str,
    /// The file.
    pub body: &'static str,
}

/// The page.
pub const INDEX: Asset = Asset {
    content_type: "text/html; charset=utf-8",
    body: include_str!("../../web/serve/index.html"),
};
/// Its script.
pub const APP_JS: Asset = Asset {
    content_type: "text/javascript; charset=utf-8",
    body: include_str!("../../web/serve/app.js"),
};
/// The signed-in views' script.
pub const VIEWS_JS: Asset = Asset {
    content_type: "text/javascript; charset=utf-8",
    body: include_str!("../../web/serve/views.js"),
};
/// The writes' script (transactions signed in the page).
pub const WRITES_JS: Asset = Asset {
    content_type: "text/javascript; charset=utf-8",
    body: include_str!("../../web/serve/writes.js"),
};
/// The Doctor view's alarms script.
pub const ALARMS_JS: Asset = Asset {
    content_type: "text/javascript; charset=utf-8",
    body: include_str!("../../web/serve/alarms.js"),
};
/// The in-page wallet (bundled, see `web/wallet/`).
pub const WALLET_JS: Asset = Asset {
    content_type: "text/javascript; charset=utf-8",
    body: include_str!("../../web/serve/wallet.js"),
};
/// Its style sheet.
pub const APP_CSS: Asset = Asset {
    content_type: "text/css; charset=utf-8",
    body: include_str!("../../web/serve/app.css"),
};

/// The answer serving `a`.
pub fn page(a: Asset) -> Response {
    (
        [
            (header::CONTENT_TYPE, a.content_type),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        a.body,
    )
        .into_response()
}
