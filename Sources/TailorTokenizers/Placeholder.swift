// TailorTokenizers
