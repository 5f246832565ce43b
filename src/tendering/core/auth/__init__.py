"""Organizations, users, roles, logins and the guards that check them."""
