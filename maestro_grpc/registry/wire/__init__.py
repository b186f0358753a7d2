"""The Registry's wire layer: the RegistryService servicer, proto conversion, request validation."""
