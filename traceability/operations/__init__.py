"""Operations on a whole instance (its database and its key files), apart from any domain: backup, restore."""
