"""Clinical outputs of a reviewed study: PDF report, DICOM SR, Encapsulated PDF, key images."""
