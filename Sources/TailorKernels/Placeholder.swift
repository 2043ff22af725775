// TailorKernels
