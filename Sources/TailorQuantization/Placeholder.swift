// TailorQuantization
