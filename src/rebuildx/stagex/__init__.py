"""stagex"""
