//! Route errors: a registry code, an HTTP status and a message (spec §14.6).

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use cim_backend::StoreError;
use cim_core::ErrorCode;

/// A failed route call.
#[derive(Debug)]
pub struct ApiError {
    /// Registry code.
    pub code: ErrorCode,
    /// For people.
    pub message: String,
    /// Whole seconds after which the call may be repeated (`Retry-After`, spec CIM-14.6-4).
    pub retry_after_secs: Option<u64>,
}

impl ApiError {
    /// A failure with `code`.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self { code, message: message.into(), retry_after_secs: None }
    }

    /// The same failure, to be repeated no sooner than `seconds` from now.
    pub fn retry_after(mut self, seconds: u64) -> Self {
        self.retry_after_secs = Some(seconds);
        self
    }

    /// INVALID_FIELD.
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::INVALID_FIELD, message)
    }

    /// The HTTP status of the code (spec §14.6).
    pub fn status(&self) -> StatusCode {
        match self.code {
            ErrorCode::INVALID_FIELD | ErrorCode::INVALID_CLIENT_MSG_ID => StatusCode::BAD_REQUEST,
            ErrorCode::UNAUTHENTICATED | ErrorCode::TOKEN_EXPIRED | ErrorCode::INVALID_CREDENTIALS => {
                StatusCode::UNAUTHORIZED
            }
            ErrorCode::FORBIDDEN => StatusCode::FORBIDDEN,
            ErrorCode::NOT_FOUND | ErrorCode::UNKNOWN_RECIPIENT => StatusCode::NOT_FOUND,
            ErrorCode::ALREADY_EXISTS => StatusCode::CONFLICT,
            ErrorCode::BODY_TOO_LARGE => StatusCode::PAYLOAD_TOO_LARGE,
            ErrorCode::RATE_LIMITED | ErrorCode::INBOX_FULL => StatusCode::TOO_MANY_REQUESTS,
            ErrorCode::UNAVAILABLE | ErrorCode::SHUTTING_DOWN | ErrorCode::OUTCOME_UNKNOWN => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        let code = match &error {
            StoreError::AlreadyExists(_) => ErrorCode::ALREADY_EXISTS,
            StoreError::NotFound(_) => ErrorCode::NOT_FOUND,
            StoreError::Forbidden(_) => ErrorCode::FORBIDDEN,
            StoreError::InboxFull(_) => ErrorCode::INBOX_FULL,
            StoreError::OutcomeUnknown(_) => ErrorCode::OUTCOME_UNKNOWN,
            _ => ErrorCode::UNAVAILABLE,
        };
        Self::new(code, error.to_string())
    }
}

impl From<cim_backend::HashingError> for ApiError {
    fn from(error: cim_backend::HashingError) -> Self {
        match error {
            // Shed load rather than queue it: the caller tries again in a second.
            cim_backend::HashingError::Busy => {
                Self::new(ErrorCode::UNAVAILABLE, error.to_string()).retry_after(1)
            }
            _ => Self::new(ErrorCode::INTERNAL, error.to_string()),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let body = cim_proto::route_json::ErrorBody {
            code: self.code.0,
            name: self.code.name().unwrap_or("UNKNOWN").to_owned(),
            message: self.message,
        };
        let mut response = (status, Json(body)).into_response();
        if let Some(seconds) = self.retry_after_secs {
            response.headers_mut().insert(axum::http::header::RETRY_AFTER, seconds.into());
        }
        response
    }
}
