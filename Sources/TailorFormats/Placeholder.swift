// TailorFormats
