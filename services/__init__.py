"""kimhub services, one package per bounded context, plus ``shared`` infrastructure."""
