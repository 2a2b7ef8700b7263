//! What the host says about itself on the privacy page and in consent receipts.

use socialconnect_core::consent::ControllerInfo;

/// What the privacy page says about the host: who the controller is, where to complain,
/// where the notice is. Host-supplied.
#[derive(Debug, Clone)]
pub struct PrivacyInfo {
    pub(crate) controller: String,
    pub(crate) contact: String,
    pub(crate) authority_name: String,
    pub(crate) authority_url: String,
    pub(crate) notice_url: String,
    pub(crate) default_country: String,
    pub(crate) storage: String,
}

impl PrivacyInfo {
    /// The controller's name and privacy contact (an email address or URL), and the data
    /// protection authority an end user may complain to.
    pub fn new(
        controller: impl Into<String>,
        contact: impl Into<String>,
        authority_name: impl Into<String>,
        authority_url: impl Into<String>,
    ) -> Self {
        Self {
            controller: controller.into(),
            contact: contact.into(),
            authority_name: authority_name.into(),
            authority_url: authority_url.into(),
            notice_url: "/privacy/notice".to_owned(),
            default_country: String::new(),
            storage: String::new(),
        }
    }

    /// Where the privacy notice text is published.
    pub fn with_notice_url(mut self, url: impl Into<String>) -> Self {
        self.notice_url = url.into();
        self
    }

    /// The country pre-filled on forms (two letters).
    pub fn with_default_country(mut self, country: impl Into<String>) -> Self {
        self.default_country = country.into();
        self
    }

    /// A sentence on where data is stored and transferred, shown beside the region tags.
    pub fn with_storage(mut self, text: impl Into<String>) -> Self {
        self.storage = text.into();
        self
    }

    pub(crate) fn controller_info(&self) -> ControllerInfo {
        ControllerInfo::new(
            self.controller.clone(),
            self.contact.clone(),
            self.notice_url.clone(),
        )
    }
}
