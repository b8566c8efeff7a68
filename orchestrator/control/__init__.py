"""The control plane behind the chat: commands, buttons, settings and notification delivery."""
