// TailorTestSupport
