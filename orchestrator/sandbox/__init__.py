"""Local stand-ins that speak GitHub's, Telegram's and the models' real protocols."""
