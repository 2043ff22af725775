// TailorChat
